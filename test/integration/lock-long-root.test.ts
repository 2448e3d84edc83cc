// The root-only lock (content/lock.ts) of a --root deeper than SQLite opens files in: it was
// ERR_LOCK_FILE ('unable to open database file', with a hint to remove a file that was never
// there) for every pull, create and prune under a --root past ~480 bytes. Its lock file now lives in
// a directory of the long-locks place named by the locks directory's device and inode
// (lock-place.ts), so it is taken, excludes another process, and is the same lock however the root
// is reached (a symlink, a bind mount elsewhere).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireStoreLock } from '../../src/content/index.js';
import { lockDirFor } from '../../src/content/lock-place.js';

const DIST_CONTENT = fileURLToPath(new URL('../../dist/content/index.js', import.meta.url));
let work: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-lock-long-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await rm(work, { recursive: true, force: true });
});

/** A root 1 KB deep (five directories of 200 bytes), made. */
async function deepRoot(): Promise<string> {
  const root = join(work, ...Array.from({ length: 5 }, (_, i) => `${i}`.padEnd(200, 'd')), 'root');
  await mkdir(root, { recursive: true });
  return root;
}

describe('the lock of a --root 1 KB deep', () => {
  it("is taken, in a root-only directory of the long-locks place named by the locks directory's identity", async () => {
    const root = await deepRoot();
    const longLocksDir = join(work, 'long-locks');
    const lock = await acquireStoreLock(root, { timeoutMs: 200, longLocksDir });
    try {
      const locks = join(await realpath(root), 'locks');
      const { dev, ino } = await stat(locks);
      const dir = lockDirFor(locks, `${dev}-${ino}`, 'store', longLocksDir);
      expect(dir.startsWith(`${longLocksDir}/`)).toBe(true);
      expect(await readdir(dir)).toEqual(['store.lock']);
      expect((await stat(dir)).mode & 0o7777).toBe(0o700);
      expect((await stat(longLocksDir)).mode & 0o7777).toBe(0o700);
      expect((await stat(join(root, 'locks'))).mode & 0o7777).toBe(0o700);
    } finally {
      await lock.release();
    }
  });

  it('excludes another process, whichever spelling of the root it was given', async () => {
    const root = await deepRoot();
    const longLocksDir = join(work, 'long-locks');
    const script = join(work, 'holder.mjs');
    await writeFile(
      script,
      `import { acquireStoreLock } from ${JSON.stringify(DIST_CONTENT)};
       await acquireStoreLock(process.argv[2], { longLocksDir: process.argv[3] });
       console.log('locked');
       setInterval(() => {}, 1000);`,
    );
    const holder = spawn(process.execPath, [script, root, longLocksDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(holder);
    await new Promise<void>((resolve) => holder.stdout?.once('data', () => resolve()));
    await expect(acquireStoreLock(root, { timeoutMs: 200, longLocksDir })).rejects.toMatchObject({
      code: 'ERR_STORE_LOCKED',
    });
    // A short symlink to the deep root: SQLite opens the resolved path, and so is the lock placed.
    const short = join(work, 'short');
    await symlink(root, short);
    await expect(acquireStoreLock(short, { timeoutMs: 200, longLocksDir })).rejects.toMatchObject({
      code: 'ERR_STORE_LOCKED',
    });
    // The root bound elsewhere, as deep: another resolved path, the same directory.
    if (process.geteuid?.() === 0) {
      const bound = join(work, ...Array.from({ length: 5 }, (_, i) => `${i}`.padEnd(200, 'b')), 'root');
      await mkdir(bound, { recursive: true });
      execFileSync('mount', ['--bind', root, bound]);
      try {
        await expect(acquireStoreLock(bound, { timeoutMs: 200, longLocksDir })).rejects.toMatchObject({
          code: 'ERR_STORE_LOCKED',
        });
      } finally {
        execFileSync('umount', [bound]);
      }
    }
    const exited = new Promise((r) => holder.once('exit', r));
    holder.kill('SIGKILL');
    await exited;
    await (await acquireStoreLock(short, { timeoutMs: 2000, longLocksDir })).release();
  });
});
