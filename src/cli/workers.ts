// Worker thread entries the CLI starts. The bundle (scripts/bundle.mjs) puts each beside
// dist/cli/berth.mjs, so they resolve relative to the bundled CLI.
export const UNPACK_WORKER = new URL('./unpack-worker.mjs', import.meta.url);
