// A --root whose file system went read-only (an SD card the kernel remounted ro after an I/O error,
// a root mounted ro by mistake) or a --state on one: commands that only read still run, and those
// that must write fail with one line saying the file system is read-only and naming it.
// Regression: `container create` said ERR_NAME_BUSY ("another create of that name is still under
// way"), `apply` ERR_DAEMON_RUNNING ("a berth daemon already runs on --root"), `image prune` a bare
// ERR_INTERNAL EROFS: each took the lock it could not create for one another process held.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['mount', 'umount'], { root: true });

describe.skipIf(skip)('a read-only --root or --state', () => {
  let work: string;
  let ro: string;
  let mounted = false;
  const berth = (root: string, state: string, ...args: string[]) =>
    runBerth(['--root', root, '--state', state, '--config', join(work, 'config.yaml'), ...args]);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-ro-'));
    ro = join(work, 'ro');
    await mkdir(ro);
    await mkdir(join(work, 'manifests'));
    await writeFile(join(work, 'config.yaml'), 'unpack:\n  reserveBytes: 0\n');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', ro]);
    mounted = true;
    // A store and a state made while it was writable, then the file system goes read-only.
    const made = await berth(join(ro, 'root'), join(ro, 'state'), 'image', 'ls');
    expect([made.code, made.stderr]).toEqual([0, '']);
    execFileSync('mount', ['-o', 'remount,ro', ro]);
  });
  afterAll(async () => {
    if (mounted) execFileSync('umount', [ro]);
    await removeTempRoot(work);
  });

  it('reads still work; writes fail with one line naming the read-only file system', async () => {
    const root = join(ro, 'root');
    const state = join(work, 'state');
    for (const args of [['image', 'ls'], ['container', 'ls'], ['ps']]) {
      const r = await berth(root, state, ...args);
      expect([args, r.code, r.stderr]).toEqual([args, 0, '']);
    }
    for (const args of [
      ['container', 'create', 'example.com/none:1', 'ro-c', '--', '/bin/true'],
      ['apply', join(work, 'manifests')],
      ['image', 'prune'],
    ]) {
      const r = await berth(root, state, ...args);
      expect([args, r.code === 0, r.stderr.trim().split('\n').length]).toEqual([args, false, 1]);
      expect(r.stderr).toMatch(
        new RegExp(`(ERR_READ_ONLY|ERR_STORE_UNWRITABLE): .*${root}.* is on a read-only file system`),
      );
    }
  });

  it('a --state on a read-only file system: one line naming it', async () => {
    const r = await berth(join(work, 'root'), join(ro, 'state'), 'apply', join(work, 'manifests'));
    expect([r.code === 0, r.stderr.trim().split('\n').length]).toEqual([false, 1]);
    expect(r.stderr).toMatch(
      new RegExp(`ERR_READ_ONLY: .*${join(ro, 'state')}.* is on a read-only file system`),
    );
  });

  it('a --state that is a file: ps, apply and the daemon fail with one line saying it is not a directory', async () => {
    const file = join(work, 'state-file');
    await writeFile(file, '');
    for (const args of [
      ['ps'],
      ['apply', join(work, 'manifests')],
      ['daemon', '--manifests', join(work, 'manifests')],
    ]) {
      const r = await berth(join(work, 'root2'), file, ...args);
      expect([args, r.code === 0, r.stderr.trim().split('\n').length]).toEqual([args, false, 1]);
      expect(r.stderr).toMatch(new RegExp(`(ERR_UNSAFE_DIR|ERR_NOT_DIRECTORY): ${file}.* not a directory`));
    }
  });
});
