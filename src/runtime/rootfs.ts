// A container's root filesystem: an overlay mount of its image's snapshots (top first) with its
// own upper and work directories, or, on hosts without overlayfs, a copy of the image's top native
// snapshot. Also reading files of the image safely (never through a symlink that leaves the root).
import { closeSync, constants, lstatSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { copyTree } from '../snapshot/copy-tree.js';
import { hostPath, resolveInRoot } from '../snapshot/resolve.js';
import { cleanComponents } from '../snapshot/tar-path.js';
import { runTool } from './tool.js';

export interface RootfsPlan {
  form: 'overlay' | 'native';
  /** Snapshot fs directories, top first (native: only the first is used). */
  lowers: string[];
  rootfs: string;
  upper: string;
  work: string;
}

export async function prepareRootfs(p: RootfsPlan): Promise<void> {
  await makeDirs(p.rootfs);
  if (p.form === 'native') {
    if (p.lowers[0]) await copyTree(p.lowers[0], p.rootfs);
    return;
  }
  await makeDirs(p.upper);
  await makeDirs(p.work);
  const options = `lowerdir=${p.lowers.join(':')},upperdir=${p.upper},workdir=${p.work}`;
  await runTool(
    'mount',
    ['-t', 'overlay', 'overlay', '-o', options, p.rootfs],
    `mounting the rootfs at ${p.rootfs}`,
    {
      code: 'ERR_ROOTFS_MOUNT',
    },
  );
}

export async function isMountPoint(path: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  return mounts.split('\n').some((l) => l.split(' ')[4] === path);
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

/** A file of the image, resolved inside `rootfs` (symlinks followed as if it were `/`); undefined if missing. */
export function readInRoot(rootfs: string, path: string): string | undefined {
  const parts = cleanComponents(Buffer.from(path));
  const { resolved } = resolveInRoot(Buffer.from(rootfs), parts);
  let fd: number;
  try {
    fd = openSync(hostPath(Buffer.from(rootfs), resolved), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if (['ENOENT', 'ELOOP', 'ENOTDIR', 'EISDIR'].includes(errnoCode(err) ?? '')) return undefined;
    throw err;
  }
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Whether `path` inside `rootfs` is an executable regular file (symlinks resolved inside the root). */
export function existsInRoot(rootfs: string, path: string): boolean {
  let parts = cleanComponents(Buffer.from(path));
  for (let hops = 0; hops < 40; hops++) {
    const { resolved } = resolveInRoot(Buffer.from(rootfs), parts);
    const host = hostPath(Buffer.from(rootfs), resolved);
    try {
      const st = lstatSync(host);
      if (!st.isSymbolicLink()) return st.isFile() && (st.mode & 0o111) !== 0;
      const target = readlinkSync(host, { encoding: 'buffer' });
      const base = target[0] === 0x2f ? [] : resolved.slice(0, -1);
      parts = cleanComponents(
        Buffer.concat([...base.flatMap((b) => [Buffer.from('/'), b]), Buffer.from('/'), target]),
      );
    } catch {
      return false;
    }
  }
  return false;
}

/** The host path of directory `path` inside `rootfs` (resolved without leaving it), or undefined. */
export function dirInRoot(rootfs: string, path: string): string | undefined {
  const parts = cleanComponents(Buffer.from(path));
  const { resolved } = resolveInRoot(Buffer.from(rootfs), parts);
  const host = hostPath(Buffer.from(rootfs), resolved);
  try {
    return lstatSync(host).isDirectory() ? host.toString() : undefined;
  } catch {
    return undefined;
  }
}
