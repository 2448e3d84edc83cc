// A --root of ~1.9 KB (a deep temp path) and an image of 200 layers, end to end as root: pull from a
// loopback registry, create and start a container on the overlay of all its snapshots, remove both.
// Three things failed such a root, each before the next could show: every lock (SQLite opens no
// file past 504 bytes: ERR_LOCK_FILE, 'remove it'), the overlay probe (its three full paths passed
// mount(2)'s one page of options, so `auto` took the file system for one overlayfs refuses and made
// native snapshots, a copy of the tree per layer), and the rootfs mount (200 short lowers beside a
// full upperdir and workdir passed the page: ERR_ROOTFS_MOUNT).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, realpath, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LONG_LOCKS_DIR, lockDirFor } from '../../src/content/lock-place.js';
import { runBerth } from '../helpers/cli.js';
import { containerStates, until } from '../helpers/poll.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { registryWorkspace } from '../helpers/registry-workspace.js';
import { buildRawImage, gzipLayer, pushRawImage, type TarSpec } from '../helpers/tar-bytes.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'findmnt'], { root: true });
const LAYERS = 200;

/** Layer 0: static busybox as /bin/sh; layer i > 0 adds /layers/i. */
function layers(): TarSpec[][] {
  const base: TarSpec[] = [
    { name: 'bin/', type: 'directory' },
    { name: 'bin/busybox', body: readFileSync('/bin/busybox'), mode: 0o755 },
    { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
    { name: 'layers/', type: 'directory' },
  ];
  const out = [base];
  for (let i = 1; i < LAYERS; i++)
    out.push([
      { name: 'layers/', type: 'directory' },
      { name: `layers/${i}`, body: `layer ${i}\n` },
    ]);
  return out;
}

describe.skipIf(skip)('a --root of 1.9 KB and an image of 200 layers', () => {
  const ws = registryWorkspace('berth-long-root-', skip);

  it('pulls into overlay snapshots, runs and is removed', async () => {
    const image = buildRawImage(layers().map((l) => gzipLayer(l)));
    await pushRawImage(ws.registry.url, 'test/long-root', '200', image);
    const ref = `${ws.registry.host}/test/long-root:200`;
    // Nine directories of 200 bytes: past any page with 200 lowers, well within PATH_MAX.
    const deep = Array.from({ length: 9 }, (_, i) => `${i}`.padEnd(200, 'd'));
    const root = join(ws.work, ...deep, 'root');
    expect(root.length).toBeGreaterThan(1800);
    const state = join(ws.work, 'state');
    const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
    const ok = async (...args: string[]) => {
      const res = await berth(...args);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      return res.stdout;
    };
    let longLocks: string | undefined;
    try {
      expect(JSON.parse(await ok('image', 'pull', '-o', 'json', ref)).unpackedLayers).toBe(LAYERS);
      const locks = join(await realpath(ws.work), ...deep, 'root', 'locks');
      const { dev, ino } = await stat(locks);
      longLocks = lockDirFor(locks, `${dev}-${ino}`, 'store');
      expect(longLocks.startsWith(`${LONG_LOCKS_DIR}/`)).toBe(true);
      expect(await readdir(longLocks)).toContain('store.lock'); // the lock was taken there
      // Overlay snapshots: the probe took the file system as the one overlayfs it is.
      expect(await readdir(join(root, 'snapshots'))).not.toContain('native');
      await ok(
        'container',
        'create',
        ref,
        'deep',
        '--',
        '/bin/sh',
        '-c',
        'ls /layers | wc -l; cat /layers/199',
      );
      await ok('container', 'start', 'deep');
      await until(
        'deep exited',
        async () => (await containerStates(berth)).deep?.endsWith(':exited') ?? false,
        400,
        50,
      );
      expect(await ok('container', 'logs', 'deep')).toBe(`${LAYERS - 1}\nlayer 199\n`);
      await ok('container', 'rm', 'deep');
      await ok('image', 'rm', ref);
      const mounts = execFileSync('findmnt', ['-rn', '-o', 'TARGET']).toString().split('\n');
      const work = await realpath(ws.work);
      expect(mounts.filter((m) => m.startsWith(ws.work) || m.startsWith(work))).toEqual([]);
    } finally {
      if (longLocks) await rm(longLocks, { recursive: true, force: true });
      await rmdir(LONG_LOCKS_DIR).catch(() => undefined); // others' locks in it: theirs to remove
    }
  }, 300_000);
});
