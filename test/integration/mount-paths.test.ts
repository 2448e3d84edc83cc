// Mount checks against real mounts: mountinfo's paths are resolved and octal-escaped, so a bundle
// or volume under a symlink or a path with a space must still be seen as mounted; and a bundle
// with anything still mounted under it is never removed recursively (rm -r crosses mounts).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalPath } from '../../src/lib/canonical-path.js';
import { decodeMountinfoField, parseMountPoints, readMountPoints } from '../../src/lib/mountinfo.js';
import { removeBundleDir } from '../../src/runtime/remove-bundle.js';
import { isMountPoint } from '../../src/runtime/rootfs.js';
import { unmountStaged } from '../../src/runtime/staging-dir.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

describe('mountinfo paths', () => {
  it('decodes the octal escapes the kernel writes', () => {
    expect(decodeMountinfoField('/a\\040b\\011c\\012d\\134e')).toBe('/a b\tc\nd\\e');
    const text = '36 35 98:0 / /mnt/my\\040disk rw,noatime master:1 - ext3 /dev/root rw\n';
    expect(parseMountPoints(text)).toEqual(['/mnt/my disk']);
  });
});

describe('bundle removal beside a late writer', () => {
  it("empties a directory again when a monitor's last write lands in it meanwhile (ENOTEMPTY)", async () => {
    const work = await mkdtemp(join(tmpdir(), 'berth-rmrace-'));
    try {
      // 40 rounds: without the retry most of them fail (measured: 25-35 of 40 on a 2-core host).
      for (let round = 0; round < 40; round++) {
        const bundle = join(work, `b${round}`);
        await mkdir(join(bundle, 'persist'), { recursive: true });
        for (let i = 0; i < 100; i++) await writeFile(join(bundle, `f${i}`), 'x');
        // conmon writing persist/exit as it is killed: a few files, one per turn of the event loop.
        const writer = (async () => {
          for (let n = 0; n < 30; n++) {
            await writeFile(join(bundle, 'persist', `exit${n}`), '0').catch(() => undefined);
            await new Promise((r) => setImmediate(r));
          }
        })();
        await removeBundleDir(bundle);
        await writer;
        await rm(bundle, { recursive: true, force: true }); // a write after the removal ended
      }
    } finally {
      await removeTempRoot(work);
    }
  });
});

const skip = missingPrereqs(['findmnt'], { root: true });

describe.skipIf(skip)('mount checks with real mounts', () => {
  let work: string;
  const mounted = () =>
    execFileSync('findmnt', ['-rn', '-o', 'TARGET'])
      .toString()
      .split('\n')
      .map((m) => m.replace(/\\x20/g, ' '))
      .filter((m) => m.startsWith(work));

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth mount paths-'));
  });
  afterAll(async () => {
    for (const m of mounted().reverse()) execFileSync('umount', ['-l', m]);
    await removeTempRoot(work);
  });

  it('canonicalises a relative, symlinked path whose tail does not exist yet', async () => {
    await mkdir(join(work, 'real'));
    await symlink(join(work, 'real'), join(work, 'link'));
    expect(canonicalPath(join(work, 'link', 'root', 'x'))).toBe(join(work, 'real', 'root', 'x'));
    expect(canonicalPath(relative(process.cwd(), join(work, 'link')))).toBe(join(work, 'real'));
  });

  it('sees a mount under a path with a space and through a symlink', async () => {
    const dir = join(work, 'real', 'vol');
    await mkdir(dir);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', dir]);
    expect((await readMountPoints()).includes(dir)).toBe(true);
    expect(await isMountPoint(dir)).toBe(true);
    expect(await isMountPoint(join(work, 'link', 'vol'))).toBe(true);
    execFileSync('umount', [dir]);
    expect(await isMountPoint(join(work, 'link', 'vol'))).toBe(false);
  });

  it('refuses to remove a bundle with a bind mount left under it; the volume survives', async () => {
    const volume = join(work, 'volume');
    await mkdir(volume);
    await writeFile(join(volume, 'data'), 'precious');
    const bundle = join(work, 'link', 'bundle');
    const target = join(work, 'real', 'bundle', 'subpaths', '0');
    await mkdir(target, { recursive: true });
    execFileSync('mount', ['--bind', volume, target]);
    await expect(removeBundleDir(bundle)).rejects.toMatchObject({
      code: 'ERR_BUNDLE_BUSY',
      kind: 'conflict',
      message: `not removing ${bundle}: ${target} is still mounted under it`,
    });
    expect(await readFile(join(volume, 'data'), 'utf8')).toBe('precious');
    execFileSync('umount', [target]);
    await removeBundleDir(bundle);
    expect(existsSync(join(work, 'real', 'bundle'))).toBe(false);
    expect(await readFile(join(volume, 'data'), 'utf8')).toBe('precious');
  });

  it('unmountStaged throws when even the lazy unmount fails', async () => {
    await expect(unmountStaged([join(work, 'not-a-mount')])).rejects.toMatchObject({ name: 'BerthError' });
  });
});
