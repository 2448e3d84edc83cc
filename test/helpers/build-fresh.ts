// Whether the built CLI (dist/cli/berth.mjs) is newer than everything it is built from: then a test
// run need not build again (a full `tsc` and bundle, some 20 s of CPU for one unit test file).
// The inputs are the sources and schemas (their folders too: a deleted file changes its folder's
// time), the bundler and the build's own configuration. BERTH_TEST_BUILD=always builds anyway.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const INPUT_TREES = ['src', 'schemas'];
const INPUT_FILES = ['scripts/bundle.mjs', 'package.json', 'package-lock.json', 'tsconfig.json'];

/** The newest modification time (ms) of `path` and, for a folder, of everything under it. */
export function newestUnder(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  let newest = st.mtimeMs;
  if (st.isDirectory())
    for (const name of readdirSync(path)) newest = Math.max(newest, newestUnder(join(path, name)));
  return newest;
}

export function distIsFresh(repo: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.BERTH_TEST_BUILD === 'always') return false;
  const built = statSync(join(repo, 'dist/cli/berth.mjs'), { throwIfNoEntry: false });
  if (!built) return false;
  const inputs = [...INPUT_TREES, ...INPUT_FILES].map((p) => newestUnder(join(repo, p)));
  return Math.max(...inputs) < built.mtimeMs;
}
