// A container's overlay rootfs (runtime/rootfs.ts prepareRootfs), mounted either way berth mounts it:
// forked `mount -t overlay`, or by the spawn helper itself with mount(2) and no process. Both give
// the same mount (its mountinfo options: lowers, upper and work named relative to the bundle's
// lower/ links, so a deep bundle of many lowers mounts too) and the same tree; a refusal is an
// ERR_ROOTFS_MOUNT naming the rootfs, leaving nothing mounted.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isMountPoint, prepareRootfs, releaseRootfs } from '../../src/runtime/rootfs.js';
import { useSpawnHelper } from '../../src/runtime/tool.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { helperWithoutTools, spawnMode } from '../helpers/spawn-helper-mode.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['mount', 'umount', 'python3'], { root: true });

describe.skipIf(skip)('the rootfs overlay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-rootfs-'));
  afterAll(() => removeTempRoot(dir));
  // Two lowers, the top one hiding a file of the one under it.
  const lowers = [join(dir, 'top'), join(dir, 'base')];
  mkdirSync(join(lowers[1] as string, 'etc'), { recursive: true });
  mkdirSync(join(lowers[0] as string, 'etc'), { recursive: true });
  writeFileSync(join(lowers[1] as string, 'etc', 'os'), 'base\n');
  writeFileSync(join(lowers[1] as string, 'etc', 'only-base'), 'b\n');
  writeFileSync(join(lowers[0] as string, 'etc', 'os'), 'top\n');
  let n = 0;
  const bundle = (b = join(dir, `c${++n}`)) => ({ rootfs: join(b, 'rootfs'), dir: b });
  /** The mount's options as mountinfo has them, with the bundle's own path taken out. */
  const optionsOf = (rootfs: string, b: string) => {
    // mountinfo: ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS
    const line = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === rootfs);
    const [type, , superOptions] = (line ?? '').split(' - ')[1]?.split(' ') ?? [];
    return `${type} ${superOptions?.replaceAll(b, 'B')}`;
  };
  const seen: string[] = [];

  for (const viaHelper of [false, true]) {
    describe(viaHelper ? 'by the spawn helper' : 'forked', () => {
      const mode = spawnMode(viaHelper);
      afterAll(() => mode.stop());

      it('mounts the lowers top first under the upper dir, as mount(8) does', async () => {
        mode.use();
        const b = bundle();
        await prepareRootfs({ form: 'overlay', lowers, ...b });
        expect(await isMountPoint(b.rootfs)).toBe(true);
        expect(readFileSync(join(b.rootfs, 'etc', 'os'), 'utf8')).toBe('top\n');
        expect(readFileSync(join(b.rootfs, 'etc', 'only-base'), 'utf8')).toBe('b\n');
        writeFileSync(join(b.rootfs, 'etc', 'new'), 'x');
        expect(readFileSync(join(b.dir, 'upper', 'etc', 'new'), 'utf8')).toBe('x');
        seen.push(optionsOf(b.rootfs, dirname(b.rootfs)));
        await releaseRootfs(b.rootfs);
        expect(await isMountPoint(b.rootfs)).toBe(false);
      });

      it('mounts 200 lowers in a bundle 1.9 KB deep: the options stay within one page', async () => {
        // upperdir and workdir in full, twice ~1.9 KB beside lowerdir=0:…:199, passed the page
        // mount(2) copies, and the kernel refused the mount.
        mode.use();
        const deep = join(dir, ...Array.from({ length: 9 }, (_, i) => `${i}`.padEnd(200, 'd')), `c${++n}`);
        const b = bundle(deep);
        // The two lowers with 198 empty ones between them (overlayfs takes no directory twice).
        const empties = Array.from({ length: 198 }, (_, i) => join(dir, 'empties', String(i)));
        for (const e of empties) mkdirSync(e, { recursive: true });
        const many = [lowers[0] as string, ...empties, lowers[1] as string];
        await prepareRootfs({ form: 'overlay', lowers: many, ...b });
        expect(readFileSync(join(b.rootfs, 'etc', 'os'), 'utf8')).toBe('top\n');
        writeFileSync(join(b.rootfs, 'etc', 'new'), 'x');
        expect(readFileSync(join(b.dir, 'upper', 'etc', 'new'), 'utf8')).toBe('x');
        await releaseRootfs(b.rootfs);
        expect(await isMountPoint(b.rootfs)).toBe(false);
      });

      it('a refusal is an ERR_ROOTFS_MOUNT naming the rootfs, nothing mounted', async () => {
        mode.use();
        const b = bundle();
        // A lower that is gone (its snapshot removed meanwhile): the kernel refuses the mount.
        const gone = [lowers[0] as string, join(dir, 'gone')];
        await expect(prepareRootfs({ form: 'overlay', lowers: gone, ...b })).rejects.toMatchObject({
          code: 'ERR_ROOTFS_MOUNT',
          message: expect.stringContaining(`mounting the rootfs at ${b.rootfs}: `),
        });
        expect(await isMountPoint(b.rootfs)).toBe(false);
      });
    });
  }

  it('both ways give one mount', () => {
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe(seen[0]);
    // upper/ and work/ named from the lower links' directory, where the mount runs (lower-links.ts).
    expect(seen[0]).toMatch(/^overlay rw,lowerdir=0:1,upperdir=\.\.\/upper,workdir=\.\.\/work/);
  });

  it('the helper mounts it with no process: one whose PATH has no mount', async () => {
    const h = helperWithoutTools(dir);
    useSpawnHelper(h);
    try {
      const b = bundle();
      await prepareRootfs({ form: 'overlay', lowers, ...b });
      expect(readFileSync(join(b.rootfs, 'etc', 'os'), 'utf8')).toBe('top\n');
      useSpawnHelper(undefined);
      await releaseRootfs(b.rootfs);
    } finally {
      useSpawnHelper(undefined);
      await h.stop();
    }
  });
});
