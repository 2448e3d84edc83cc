// scripts/setup.sh on a host it has already set up (CI runs it before the suite; so does a
// developer's first `scripts/test.sh`): a second run installs nothing, builds nothing and rewrites
// nothing. The launcher goes to a temp path (BERTH_LAUNCHER), so the host's /usr/local/bin/berth,
// which may name another checkout, is never touched.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const skip = missingPrereqs(['dpkg-query', 'find'], { root: true });

/** setup.sh's own test for "the npm dependencies are installed": their lock file's hash, stamped. */
const dependenciesInstalled = () => {
  const stamp = join(REPO, 'node_modules/.berth-lock-hash');
  const want = createHash('sha256')
    .update(readFileSync(join(REPO, 'package-lock.json')))
    .digest('hex');
  return existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want;
};

describe.skipIf(skip)('scripts/setup.sh', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-setup-'));
  });
  afterAll(async () => {
    await removeTempRoot(work);
  });
  const setup = (launcher: string) =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        'bash',
        [join(REPO, 'scripts/setup.sh')],
        { env: { ...process.env, BERTH_LAUNCHER: launcher }, timeout: 120_000 },
        (err, _stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }),
      );
    });

  it('a second run on a set-up host installs nothing, builds nothing and rewrites nothing', async () => {
    // Only on a host set up already (the suite's global setup has built dist/): never an npm install
    // into a node_modules this checkout may share.
    expect(dependenciesInstalled()).toBe(true);
    const launcher = join(work, 'berth');
    const first = await setup(launcher);
    expect(first.code).toBe(0);
    const bundle = join(REPO, 'dist/cli/berth.mjs');
    const before = [statSync(bundle).mtimeMs, statSync(launcher).mtimeMs, await readFile(launcher, 'utf8')];
    // node, as found on PATH, running this checkout's bundle.
    expect(String(before[2]).replace(/^#!\/bin\/sh\nexec \/\S+\/node /, '')).toBe(`${bundle} "$@"\n`);

    const second = await setup(launcher);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(
      /^\[setup\] ready: node v24\.\d+\.\d+, runc version [^\n]+, conmon [^\n]+\n$/,
    );
    expect([statSync(bundle).mtimeMs, statSync(launcher).mtimeMs, await readFile(launcher, 'utf8')]).toEqual(
      before,
    );
  }, 240_000);
});
