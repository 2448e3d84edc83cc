// --root on the file systems edge nodes have: tmpfs, ext4, xfs and btrfs on loop devices, each taking
// an image, running a container that writes to its rootfs and removes an image file, removing it
// and pruning; and a --root on overlayfs (a Raspberry Pi's overlay root, a root inside a container),
// which overlayfs refuses as a container's upper directory. Regression: there a container's create
// failed deep in its rootfs mount ("wrong fs type, bad option, bad superblock on overlay"); now
// `auto` keeps native snapshots there and an explicit `overlay` fails with one line naming the root
// and its file system.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { archiveImage, buildImage, createLayout, type Layout, populateBusybox } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(
  ['runc', 'conmon', 'skopeo', 'umoci', 'mount', 'umount', 'losetup', 'mkfs.ext4'],
  {
    root: true,
  },
);
const has = (tool: string) => missingPrereqs([tool]) === undefined;

describe.skipIf(skip)('--root on real file systems', () => {
  let layout: Layout;
  let work: string;
  let archive: string;
  const loops: string[] = [];
  const mounts: string[] = [];
  const tag = randomBytes(3).toString('hex');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-rootfs-'));
    layout = await createLayout();
    await buildImage(layout, 'b', [populateBusybox]);
    archive = join(work, 'b.tar');
    await archiveImage(layout, 'b', archive, 'example.com/b:1');
  }, 120_000);
  afterAll(async () => {
    for (const m of mounts.reverse()) execFileSync('umount', ['-l', m]);
    for (const l of loops) execFileSync('losetup', ['-d', l]);
    await removeTempRoot(work);
  });

  /** A fresh file system of `kind` mounted at a new directory. */
  async function mountFs(kind: string): Promise<string> {
    const at = join(work, kind);
    await mkdir(at);
    if (kind === 'tmpfs') execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=200m', 'tmpfs', at]);
    else if (kind === 'overlay') {
      for (const d of ['lo', 'up', 'wk']) await mkdir(join(work, `ov-${d}`));
      const o = `lowerdir=${join(work, 'ov-lo')},upperdir=${join(work, 'ov-up')},workdir=${join(work, 'ov-wk')}`;
      execFileSync('mount', ['-t', 'overlay', '-o', o, 'overlay', at]);
    } else {
      const img = join(work, `${kind}.img`);
      execFileSync('truncate', ['-s', '400M', img]);
      const loop = execFileSync('losetup', ['-f', '--show', img]).toString().trim();
      loops.push(loop);
      execFileSync(`mkfs.${kind}`, kind === 'ext4' ? ['-q', '-F', loop] : ['-q', '-f', loop]);
      execFileSync('mount', [loop, at]);
    }
    mounts.push(at);
    return at;
  }

  function berthOn(at: string, config = '') {
    return async (...args: string[]) => {
      await writeFile(join(work, `config-${tag}.yaml`), `unpack:\n  reserveBytes: 0\n${config}`);
      return runBerth([
        '--root',
        join(at, 'root'),
        '--state',
        join(work, `state-${tag}`),
        '--config',
        join(work, `config-${tag}.yaml`),
        ...args,
      ]);
    };
  }

  /** import, run (writing to the rootfs, removing an image file), rm, prune: each exit 0, no stderr. */
  async function roundTrip(at: string, config = ''): Promise<void> {
    const berth = berthOn(at, config);
    const name = `fs-${tag}-${randomBytes(2).toString('hex')}`;
    const script = 'echo hi > /x && cat /x && rm /bin/true && test ! -e /bin/true && echo gone';
    for (const [args, out] of [
      [['image', 'import', archive], /imported example.com\/b:1/],
      [['container', 'run', '--rm', 'example.com/b:1', name, '--', '/bin/sh', '-c', script], /^hi\ngone\n$/],
      [['container', 'ls'], /^NAME/],
      [['image', 'rm', 'example.com/b:1'], /removed example.com\/b:1/],
      [['image', 'prune'], /removed/],
    ] as const) {
      const r = await berth(...args);
      expect([args[0], args[1], r.code, r.stderr]).toEqual([args[0], args[1], 0, '']);
      expect(r.stdout).toMatch(out);
    }
  }

  for (const kind of ['tmpfs', 'ext4', 'xfs', 'btrfs'])
    it.skipIf(kind !== 'tmpfs' && !has(`mkfs.${kind}`))(
      `${kind}: import, unpack, run, remove, prune`,
      async () => {
        await roundTrip(await mountFs(kind));
      },
      120_000,
    );

  it('overlayfs: auto keeps native snapshots there; snapshotter: overlay fails at the create with one line naming the root', async () => {
    const at = await mountFs('overlay');
    await roundTrip(at);
    const berth = berthOn(at, '  snapshotter: overlay\n');
    expect((await berth('image', 'import', archive)).code).toBe(0);
    const r = await berth('container', 'create', 'example.com/b:1', `ov-${tag}`, '--', '/bin/true');
    expect([r.code, r.stderr.trim().split('\n').length]).toEqual([2, 1]);
    expect(r.stderr).toContain(
      `ERR_ROOT_NO_OVERLAY: --root ${join(at, 'root')} is on overlayfs, which overlayfs does not take as a container's upper directory`,
    );
    expect((await berth('container', 'ls')).stdout).not.toContain(`ov-${tag}`); // the create undid itself
  }, 120_000);
});
