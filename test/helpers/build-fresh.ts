// Whether the built CLI (dist/cli/berth.mjs) was built from the sources as they are: then a test run
// need not build again (a full `tsc` and bundle, some 20 s of CPU for one unit test file). A build
// that succeeds records a digest of its inputs' names and bytes as they were when it started
// (dist/.build-inputs): a source edited while it ran, or a build that failed, leaves a record that
// no longer matches, and the next run builds. The inputs are the sources and schemas (every file's
// path, so a deleted or renamed file counts), the bundler and the build's own configuration. By
// content, not modification times: a file put back with an older time (cp -p, rsync -t, tar, an
// editor's backup restored) or two edits within the clock's step changed what a build makes while
// the newest time stayed, and tests ran the old CLI. Hashing them is some 10 ms.
// BERTH_TEST_BUILD=always builds anyway.
import { createHash, type Hash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const INPUT_TREES = ['src', 'schemas'];
const INPUT_FILES = ['scripts/bundle.mjs', 'package.json', 'package-lock.json', 'tsconfig.json'];
const RECORD = 'dist/.build-inputs';

/** Every file's path (relative to `repo`) and bytes under `path` into `h`; a missing one as such. */
function hashUnder(h: Hash, repo: string, path: string): void {
  const st = statSync(join(repo, path), { throwIfNoEntry: false });
  if (!st) {
    h.update(`missing\0${path}\0`);
    return;
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(join(repo, path)).sort()) hashUnder(h, repo, join(path, name));
    return;
  }
  const bytes = readFileSync(join(repo, path));
  h.update(`file\0${path}\0${bytes.length}\0`);
  h.update(bytes);
}

/** A digest of the build's inputs as they are now, as a build records it. */
export function buildInputsOf(repo: string): string {
  const h = createHash('sha256');
  for (const p of [...INPUT_TREES, ...INPUT_FILES]) hashUnder(h, repo, p);
  return h.digest('hex');
}

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
