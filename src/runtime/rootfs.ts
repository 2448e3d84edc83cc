// A container's root filesystem: an overlay mount of its image's snapshots (top first) with its
// own upper and work directories, or, on hosts without overlayfs, a copy of the image's top native
// snapshot. Also reading files of the image safely (never through a symlink that leaves the root).
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readlinkSync,
  readSync,
  type Stats,
} from 'node:fs';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { readMountPoints } from '../lib/mountinfo.js';
import { O_PATH } from '../lib/o-path.js';
import { copyTree } from '../snapshot/copy-tree.js';
import { hostPath, resolveInRoot } from '../snapshot/resolve.js';
import { cleanComponents } from '../snapshot/tar-path.js';
import { linkLowers, MOUNT2_ENV, overlayOptions } from './lower-links.js';
import { probeOverlayUpper } from './overlay-probe.js';
import { runTool, spawnHelperInUse } from './tool.js';

export interface RootfsPlan {
  form: 'overlay' | 'native';
  /** Snapshot fs directories, top first (native: only the first is used). */
  lowers: string[];
  rootfs: string;
  /**
   * The container's directory: the overlay's `upper/` and `work/` are made in it, beside `lower/`
   * (the lowers' links, where the mount runs and names them from: lower-links.ts).
   */
  dir: string;
  /** The --root (named, and probed, when overlayfs refuses the rootfs mount). */
  root?: string;
}

export async function prepareRootfs(p: RootfsPlan): Promise<void> {
  await makeDirs(p.rootfs);
  if (p.form === 'native') {
    if (p.lowers[0]) await copyTree(p.lowers[0], p.rootfs);
    return;
  }
  // An image of no layers is an empty root; overlayfs takes no mount without a lower: an empty one.
  const lowers = p.lowers.length > 0 ? p.lowers : [join(p.dir, 'empty')];
  // Short names for the lowers, and upper/ and work/ named from beside them (see lower-links.ts),
  // so the options stay under a page whatever --root is; too many lowers is refused first.
  const links = join(p.dir, 'lower');
  const options = overlayOptions(lowers.length);
  await makeDirs(join(p.dir, 'upper'));
  await makeDirs(join(p.dir, 'work'));
  if (p.lowers.length === 0) await makeDirs(lowers[0] as string);
  await linkLowers(links, lowers);
  const what = `mounting the rootfs at ${p.rootfs}`;
  // The spawn helper mounts it itself (spawn-helper-syscalls.ts: the same mount(2), no `mount` process).
  const helper = spawnHelperInUse();
  const mounted = helper
    ? helper.mountOverlay({ options, target: p.rootfs, cwd: links }).catch((err: Error) => {
        throw new BerthError('ERR_ROOTFS_MOUNT', 'internal', `${what}: ${err.message}`, { cause: err });
      })
    : runTool('mount', ['-t', 'overlay', 'overlay', '-o', options, p.rootfs], what, {
        code: 'ERR_ROOTFS_MOUNT',
        cwd: links,
        env: { ...MOUNT2_ENV },
      });
  await mounted.catch(async (err) => {
    // The kernel says only EINVAL; when the root's file system itself is what it refuses, say so.
    throw (await rootRefusal(p.root)) ?? err;
  });
}

async function rootRefusal(root: string | undefined): Promise<BerthError | undefined> {
  const refused = root === undefined ? undefined : await probeOverlayUpper(root).catch(() => undefined);
  if (!refused) return undefined;
  return new BerthError(
    'ERR_ROOT_NO_OVERLAY',
    'invalid',
    `--root ${root} is on ${refused.fsType}, which overlayfs does not take as a container's upper directory`,
    {
      hint: 'unpack.snapshotter: auto or native in the host config, or a --root on ext4, xfs, btrfs or tmpfs',
    },
  );
}

/** Whether `path` (resolved first: mountinfo lists resolved paths) is a mount point. */
export async function isMountPoint(path: string): Promise<boolean> {
  let resolved: string;
  try {
    resolved = await realpath(path);
  } catch {
    return false; // gone: nothing is mounted there
  }
  return (await readMountPoints()).includes(resolved);
}

/** Unmount if mounted (a mount still busy is detached lazily: it goes once nothing uses it). */
export async function releaseRootfs(rootfs: string): Promise<void> {
  if (!(await isMountPoint(rootfs))) return;
  try {
    await runTool('umount', [rootfs], `unmounting ${rootfs}`);
  } catch {
    await runTool('umount', ['-l', rootfs], `unmounting ${rootfs}`);
  }
}

/** The most berth reads of a file an image controls (/etc/passwd, /etc/group). */
export const IMAGE_FILE_MAX = 1 << 20;

/**
 * A file of the image, resolved inside `rootfs` (symlinks followed as if it were `/`); undefined if
 * missing. The image decides what is there, so it is first opened with O_PATH (no driver `open`
 * runs for a device node, no FIFO blocks), and read only if fstat says it is a regular file of at
 * most IMAGE_FILE_MAX bytes: a FIFO or a device node is refused, never read.
 */
export function readInRoot(rootfs: string, path: string, image = 'the image'): string | undefined {
  const host = followInRoot(rootfs, path);
  if (!host) return undefined;
  let pathFd: number;
  try {
    pathFd = openSync(host, O_PATH | constants.O_NOFOLLOW);
  } catch (err) {
    if (['ENOENT', 'ENOTDIR'].includes(errnoCode(err) ?? '')) return undefined;
    throw err;
  }
  let fd: number;
  let size: number;
  try {
    const st = fstatSync(pathFd);
    if (st.isSymbolicLink() || st.isDirectory()) return undefined; // changed under us, or not a file
    if (!st.isFile()) throw unsafeFile(image, path, `is ${kindOf(st)}, not a regular file`);
    if (st.size > IMAGE_FILE_MAX)
      throw unsafeFile(image, path, `is ${st.size} bytes (at most ${IMAGE_FILE_MAX})`);
    // Reopening the O_PATH fd reads exactly the inode checked above.
    fd = openSync(`/proc/self/fd/${pathFd}`, constants.O_RDONLY | constants.O_NONBLOCK);
    size = st.size;
  } finally {
    closeSync(pathFd);
  }
  try {
    const { buf, n } = readCapped(fd, size, IMAGE_FILE_MAX + 1);
    if (n > IMAGE_FILE_MAX) throw unsafeFile(image, path, `grew past ${IMAGE_FILE_MAX} bytes while read`);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * fd read to its end or to `cap` bytes, whichever comes first, into a buffer sized by what fstat
 * said (one byte more, to see a file that grew), doubled only while the file keeps growing: a create
 * reads /etc/passwd and /etc/group this way, and a 1 MiB buffer each (zeroed, then left to the
 * garbage collector) cost more than the reads.
 */
export function readCapped(fd: number, size: number, cap: number): { buf: Buffer; n: number } {
  let buf = Buffer.allocUnsafe(Math.min(size + 1, cap));
  let n = 0;
  for (;;) {
    if (n === buf.length) {
      if (buf.length === cap) return { buf, n };
      const grown = Buffer.allocUnsafe(Math.min(buf.length * 2, cap));
      buf.copy(grown, 0, 0, n);
      buf = grown;
    }
    const got = readSync(fd, buf, n, buf.length - n, null);
    if (got === 0) return { buf, n };
    n += got;
  }
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function unsafeFile(image: string, path: string, why: string): BerthError {
  return new BerthError('ERR_IMAGE_FILE_UNSAFE', 'invalid', `${path} in image "${image}" ${why}`);
}

/**
 * The host path of `path` inside `rootfs`, every symlink (the last one too) followed as if the
 * root were `/` (a path that does not exist yet is where it would be); undefined when looping.
 */
export function followInRoot(rootfs: string, path: string): string | undefined {
  let parts = cleanComponents(Buffer.from(path));
  for (let hops = 0; hops < 40; hops++) {
    const { resolved } = resolveInRoot(Buffer.from(rootfs), parts);
    const host = hostPath(Buffer.from(rootfs), resolved);
    try {
      if (!lstatSync(host).isSymbolicLink()) return host.toString();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return host.toString();
      return undefined;
    }
    try {
      const target = readlinkSync(host, { encoding: 'buffer' });
      const base = target[0] === 0x2f ? [] : resolved.slice(0, -1);
      parts = cleanComponents(
        Buffer.concat([...base.flatMap((b) => [Buffer.from('/'), b]), Buffer.from('/'), target]),
      );
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Whether `path` inside `rootfs` is an executable regular file (symlinks resolved inside the root). */
export function existsInRoot(rootfs: string, path: string): boolean {
  const host = followInRoot(rootfs, path);
  if (!host) return false;
  try {
    const st = lstatSync(host);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * The host path of directory `path` inside `rootfs` (every symlink, the last one too, resolved
 * without leaving it, as runc resolves a mount's destination), or undefined.
 */
export function dirInRoot(rootfs: string, path: string): string | undefined {
  const host = followInRoot(rootfs, path);
  if (host === undefined) return undefined;
  try {
    return lstatSync(host).isDirectory() ? host : undefined;
  } catch {
    return undefined;
  }
}
