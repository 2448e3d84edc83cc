// Bundles the compiled CLI (dist/cli/main.js) into one file, dist/cli/berth.mjs: a cold start then
// reads one file instead of a few hundred (measured here: `image ls` cold 0.28 s → 0.16 s). The
// unpack worker thread's entry is bundled beside it (dist/cli/unpack-worker.mjs), where the CLI
// looks for it. schemas/ stays outside and is found relative to both (dist/cli → ../../schemas).
// Shared code and lazily imported modules live in dist/cli/chunks/.
import { build } from 'esbuild';

await build({
  entryPoints: { berth: 'dist/cli/main.js', 'unpack-worker': 'dist/snapshot/unpack-worker.js' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  // What a command imports lazily (the registry client, the host config's schema validation) goes
  // to chunks it loads only when used: `container start` does not pay for undici or ajv.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node24',
  sourcemap: 'linked',
  logLevel: 'warning',
  // CommonJS dependencies (undici, ajv) call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);" },
});
