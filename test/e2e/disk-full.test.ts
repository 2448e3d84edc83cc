// A full --root file system: the commands that free space (image rm, image prune) and those that
// only read (logs, image ls) still run, since taking a lock writes nothing. Regression: the store
// lock (SQLite's BEGIN EXCLUSIVE) wrote a -journal file, so they all failed with ERR_LOCK_FILE
// "database or disk is full" and a hint to delete the lock file. README (On disk): `space-reserve`,
// 256 KiB of zeros kept back so `image rm` can rewrite index.json on a full file system, given up
// there and made again by the next command that finds room.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import {
  archiveImage,
  buildImage,
  createLayout,
  type Layout,
  populateBusybox,
  populateRandom,
} from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const run = promisify(execFile);
const skip = missingPrereqs(['runc', 'conmon', 'skopeo', 'umoci', 'mount', 'umount', 'dd'], { root: true });
const MiB = 2 ** 20;

/** Fills the file system of `dir` to its last block: one big file, then one-byte files until ENOSPC. */
async function fill(dir: string): Promise<void> {
  await run('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=1M']).catch(() => undefined);
  await mkdir(join(dir, 'small'));
  for (let i = 0; ; i++) {
    try {
      await writeFile(join(dir, 'small', String(i)), 'x');
    } catch {
      return;
    }
  }
}

/** The reserve's size and the bytes its blocks hold (a sparse file would keep nothing back), or null. */
const reserve = (root: string) =>
  stat(join(root, 'space-reserve')).then(
    (s) => [s.size, s.blocks * 512 >= s.size],
    () => null,
  );

const freeBytes = (dir: string) =>
  Number(execFileSync('df', ['--output=avail', '-B1', dir]).toString().split('\n')[1]?.trim());

describe.skipIf(skip)('a full --root file system', () => {
  let layout: Layout;
  let work: string;
  let root: string;
  let mounted = false;
  const name = `full-${randomBytes(4).toString('hex')}`;
  const berth = (...args: string[]) =>
    runBerth([
      '--root',
      root,
      '--state',
      join(work, 'state'),
      '--config',
      join(work, 'config.yaml'),
      ...args,
    ]);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-full-'));
    root = join(work, 'root');
    await mkdir(root);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0700', 'tmpfs', root]);
    mounted = true;
    await writeFile(join(work, 'config.yaml'), 'unpack:\n  reserveBytes: 0\n');
    layout = await createLayout();
    await buildImage(layout, 'b', [populateBusybox]);
    await buildImage(layout, 'big', [populateRandom(1, 4 * MiB)]);
    for (const t of ['b', 'big']) {
      const file = join(work, `${t}.tar`);
      await archiveImage(layout, t, file, `example.com/${t}:1`);
      const r = await berth('image', 'import', file);
      expect([r.code, r.stderr]).toEqual([0, '']);
    }
    const created = await berth('container', 'create', 'example.com/b:1', name, '--', '/bin/true');
    expect([created.code, created.stderr]).toEqual([0, '']);
    await fill(root);
  }, 180_000);

  afterAll(async () => {
    if (mounted) {
      await rm(join(root, 'filler'), { force: true });
      await rm(join(root, 'small'), { recursive: true, force: true });
      await berth('container', 'rm', '--force', name);
      execFileSync('umount', [root]);
    }
    await layout?.cleanup();
    if (work) await removeTempRoot(work);
  });

  it('still lists images and shows logs; image rm gives up the space reserve, prune frees space and the reserve is made again', async () => {
    expect(freeBytes(root)).toBe(0);
    expect(await reserve(root)).toEqual([256 * 1024, true]); // made by the imports, before the fill
    const ls = await berth('image', 'ls');
    expect([ls.code, ls.stderr]).toEqual([0, '']);
    expect(ls.stdout).toContain('example.com/big');
    const logs = await berth('container', 'logs', name);
    expect([logs.code, logs.stderr]).toEqual([0, '']);

    const removed = await berth('image', 'rm', 'example.com/big:1');
    expect([removed.code, removed.stderr]).toEqual([0, '']);
    expect(await reserve(root)).toBeNull(); // its blocks went to index.json's rewrite
    const pruned = await berth('image', 'prune');
    expect([pruned.code, pruned.stderr]).toEqual([0, '']);
    expect(freeBytes(root)).toBeGreaterThan(4 * MiB);
    expect(await reserve(root)).toEqual([256 * 1024, true]); // the next command found room for it
    const after = await berth('image', 'ls');
    expect(after.stdout).not.toContain('example.com/big');
    expect(after.stdout).toContain('example.com/b:1');
  });
});
