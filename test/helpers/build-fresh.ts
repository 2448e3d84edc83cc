// Whether the built CLI (dist/cli/berth.mjs) was built from the sources as they are: then a test run
// need not build again (a full `tsc` and bundle, some 20 s of CPU for one unit test file). A build
// that succeeds records the newest modification time of its inputs as they were when it started
// (dist/.build-inputs): a source edited while it ran, or a build that failed, leaves a record that
// no longer matches, and the next run builds. The inputs are the sources and schemas (their folders
// too: a deleted file changes its folder's time), the bundler and the build's own configuration.
// BERTH_TEST_BUILD=always builds anyway.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const INPUT_TREES = ['src', 'schemas'];
const INPUT_FILES = ['scripts/bundle.mjs', 'package.json', 'package-lock.json', 'tsconfig.json'];
const RECORD = 'dist/.build-inputs';

/** The newest modification time (ms) of `path` and, for a folder, of everything under it. */
export function newestUnder(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  let newest = st.mtimeMs;
  if (st.isDirectory())
    for (const name of readdirSync(path)) newest = Math.max(newest, newestUnder(join(path, name)));
  return newest;
}

/** The newest modification time of the build's inputs, as a build records it. */
export const buildInputsOf = (repo: string): string =>
  String(Math.max(...[...INPUT_TREES, ...INPUT_FILES].map((p) => newestUnder(join(repo, p)))));

export function distIsFresh(repo: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.BERTH_TEST_BUILD === 'always') return false;
  if (!statSync(join(repo, 'dist/cli/berth.mjs'), { throwIfNoEntry: false })) return false;
  let recorded: string;
  try {
    recorded = readFileSync(join(repo, RECORD), 'utf8');
  } catch {
    return false;
  }
  return recorded === buildInputsOf(repo);
}

/** After a build that succeeded: the inputs as they were when it started (`inputs`). */
export function recordBuild(repo: string, inputs: string): void {
  writeFileSync(join(repo, RECORD), inputs);
}
