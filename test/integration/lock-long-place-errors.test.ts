// The long-locks place of a --root too deep for SQLite (content/lock-place.ts) that cannot be made:
// a full file system, a read-only one, or a user's berth in root's /run. Each was the bare errno
// (ENOSPC, EROFS, EACCES: ERR_INTERNAL on a terminal, no kind for the exit code); each is now coded
// and names the directory. The file systems are tmpfs mounts a child makes in a mount namespace of
// its own (unshare -m), gone with it; the user's is a throwaway account.
import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalUser, type LocalUser } from '../helpers/local-user.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const DIST_CONTENT = fileURLToPath(new URL('../../dist/content/index.js', import.meta.url));
const skip = missingPrereqs(['unshare', 'mount', 'useradd', 'setpriv'], { root: true });

/** Takes the store lock of argv[2] with its long locks in argv[3]; prints the error it gets. */
const TRY_LOCK = `import { acquireStoreLock } from ${JSON.stringify(DIST_CONTENT)};
try {
  await (await acquireStoreLock(process.argv[2], { timeoutMs: 200, longLocksDir: process.argv[3] })).release();
  console.log(JSON.stringify({ locked: true }));
} catch (err) {
  console.log(JSON.stringify({ code: err.code, kind: err.kind, message: err.message, hint: err.hint }));
}
`;

describe.skipIf(skip)('a long-locks place that cannot be made', () => {
  let work: string;
  let script: string;
  let root: string;
  let user: LocalUser | undefined;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-lock-place-'));
    await chmod(work, 0o755); // a user's berth reaches its root and the script
    script = join(work, 'try-lock.mjs');
    await writeFile(script, TRY_LOCK, { mode: 0o644 });
    root = join(work, ...Array.from({ length: 3 }, (_, i) => `${i}`.padEnd(200, 'd')), 'root');
    await mkdir(root, { recursive: true });
  });
  afterEach(async () => {
    user?.remove();
    user = undefined;
    await rm(work, { recursive: true, force: true });
  });

  /** The lock tried in a mount namespace of its own, over a tmpfs mounted with `options` at `place`. */
  function tryOnTmpfs(options: string): Record<string, unknown> {
    const place = join(work, 'run');
    const r = spawnSync(
      'unshare',
      [
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mkdir -p "$1" && mount -t tmpfs -o "$2" tmpfs "$1" && exec "$3" "$4" "$5" "$1/berth-locks"',
        'sh',
        place,
        options,
        process.execPath,
        script,
        root,
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  it('no inode left is ERR_NO_SPACE, naming the directory that cannot be made', () => {
    const got = tryOnTmpfs('nr_inodes=1,size=64k');
    expect(got).toMatchObject({ code: 'ERR_NO_SPACE', kind: 'limit' });
    expect(got.message).toMatch(
      new RegExp(`^cannot make ${work}/run/berth-locks: the file system is full \\(ENOSPC\\); `),
    );
  });

  it('a read-only file system is ERR_READ_ONLY, naming the directory that cannot be made', () => {
    const got = tryOnTmpfs('ro');
    expect(got).toMatchObject({ code: 'ERR_READ_ONLY', kind: 'unavailable' });
    expect(got.message).toMatch(new RegExp(`^${work}/run/berth-locks is on a read-only file system$`));
  });

  it("a user's berth in a directory of root's is ERR_LOCK_DIR, forbidden, naming it", async () => {
    user = createLocalUser();
    await chown(root, user.uid, user.gid); // the user's own (deep) --root
    const run = join(work, 'run'); // root's, as /run is
    await mkdir(run, { mode: 0o755 });
    const r = user.run(process.execPath, [script, root, join(run, 'berth-locks')]);
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(got).toMatchObject({
      code: 'ERR_LOCK_DIR',
      kind: 'forbidden',
      hint: 'run berth as root, or give it a shallower --root and --state (under some 480 bytes)',
    });
    expect(got.message).toMatch(new RegExp(`^cannot make ${run}/berth-locks \\(EACCES\\); `));
  });
});
