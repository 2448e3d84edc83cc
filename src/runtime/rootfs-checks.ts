// What the image's files must not do to a container being made, checked in its mounted rootfs
// before runc sees it: a command that is not there, a working directory or a mount destination
// whose symlinks lead into /proc, /sys or /dev, a /proc, /sys or /dev that is not a directory.
import { existsSync, lstatSync, readlinkSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { BerthError, errnoCode } from '../lib/errors.js';
import { existsInRoot, followInRoot } from './rootfs.js';
import { type ContainerMount, cleanContainerPath, invalid, isUnderProc } from './spec.js';

/** A mount as the command check sees it: where it lands, and the host directory it shows when known. */
export interface MountedPath {
  destination: string;
  /** The host directory shown at `destination` (a plain bind or volume); unset: its files are not known before it is mounted. */
  host?: string;
}

/** A container's mounts as the command check sees them (a plain bind or volume shows its source). */
export function mountedPaths(mounts: readonly ContainerMount[]): MountedPath[] {
  return mounts.map((m) => ({
    destination: cleanContainerPath(m.destination),
    ...((m.kind === 'bind' || m.kind === 'volume') && !m.subPath && !m.dataLink ? { host: m.source } : {}),
  }));
}

/**
 * The command must exist in the image: absolute, relative to the workdir, or found on PATH. One at
 * or under a mount's destination is what the mount brings, not the image's to have: runc looks for
 * it there. A bare name looked up on PATH through a mount whose host directory is known must be in
 * that directory (a typo under `-v tools:/usr/local/bin` stays ERR_COMMAND_NOT_FOUND, as Docker says).
 */
export function checkCommand(
  rootfs: string,
  args: string[],
  env: string[],
  cwd: string,
  mounted: readonly MountedPath[] = [],
): void {
  const cmd = args[0] as string;
  const path = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
  const named = cmd.includes('/');
  const candidates = named
    ? [posix.resolve(cwd, cmd)]
    : path
        .split(':')
        .filter(Boolean)
        .map((d) => posix.join(d, cmd));
  const inMount = (c: string) =>
    mounted.some(({ destination: m, host }) => {
      if (c !== m && !c.startsWith(m === '/' ? m : `${m}/`)) return false;
      return named || host === undefined || existsSync(join(host, c.slice(m.length)));
    });
  if (!candidates.some((c) => inMount(c) || existsInRoot(rootfs, c))) {
    throw new BerthError('ERR_COMMAND_NOT_FOUND', 'invalid', `"${cmd}" is not an executable in the image`);
  }
}

/**
 * The working directory after the image's symlinks (followed inside the rootfs) must not be under
 * /proc either: `WorkingDir: /work` with `/work -> /proc/self/fd/7` is the same escape.
 */
export function checkResolvedWorkdir(rootfs: string, cwd: string): void {
  const host = followInRoot(rootfs, cwd);
  if (host === undefined) throw invalid(`working directory ${cwd}: too many symbolic links`);
  const inside = host.slice(rootfs.length) || '/';
  if (isUnderProc(inside)) {
    throw new BerthError(
      'ERR_WORKDIR_UNSAFE',
      'invalid',
      `working directory "${cwd}" leads to ${inside} in the image, under /proc (a host file descriptor could leak through it)`,
    );
  }
}

/** The kernel file systems the runtime mounts itself, before the container's own mounts. */
const KERNEL_FS = new Set(['proc', 'sys', 'dev']);
const topOf = (path: string) => path.split('/').find((p) => p !== '' && p !== '.') ?? '';

/**
 * The runtime's own mount points first (checkKernelMountPoints); then a mount destination the
 * image's symlinks lead into /proc, /sys or /dev when it is not written there: `/etc/resolv.conf ->
 * /proc/self/fd/0` would bind the bundle's file over the container's stdin (runc reopens its stdio
 * on it: the process writes into that host file, `logs` sees nothing).
 */
export function checkResolvedMounts(rootfs: string, image: string, destinations: string[]): void {
  checkKernelMountPoints(rootfs, image);
  for (const d of destinations) {
    const host = followInRoot(rootfs, d);
    if (host === undefined) throw invalid(`mount destination ${d}: too many symbolic links in the image`);
    const inside = host.slice(rootfs.length) || '/';
    if (KERNEL_FS.has(topOf(inside)) && topOf(inside) !== topOf(d))
      throw new BerthError(
        'ERR_MOUNT_UNSAFE',
        'invalid',
        `mount destination ${d} leads to ${inside} in the image: a symlink into a kernel file system (the mount would land on what the runtime mounted there)`,
      );
  }
}

/** What the runtime mounts at each of its own mount points, and whether it follows a symlink there. */
const RUNTIME_MOUNTS = [
  ['/proc', 'proc', false],
  ['/sys', 'sysfs', false],
  ['/dev', 'a tmpfs', true],
] as const;

function kindOf(st: Stats, host: string): string {
  if (st.isSymbolicLink()) return `a symlink (to ${readlinkSync(host).toString()})`;
  if (st.isFile()) return 'a file';
  if (st.isFIFO()) return 'a fifo';
  if (st.isSocket()) return 'a socket';
  return 'a device node';
}

/**
 * runc mounts proc on /proc and sysfs on /sys only on a directory (a symlink there is neither
 * followed nor replaced), and its tmpfs on /dev only where /dev leads to a directory: an image with
 * anything else there fails every runtime's create in runc's words. Here it is one line naming
 * the image and the path; absent is fine (runc makes the directory).
 */
function checkKernelMountPoints(rootfs: string, image: string): void {
  for (const [path, fs, follow] of RUNTIME_MOUNTS) {
    const fail = (what: string) =>
      new BerthError(
        'ERR_IMAGE_MOUNTPOINT_INVALID',
        'invalid',
        `image "${image}": ${path} is ${what} in the image, where the runtime mounts ${fs}: it must be a directory or absent`,
      );
    const host = follow ? followInRoot(rootfs, path) : join(rootfs, path);
    if (host === undefined) throw fail('a chain of too many symlinks');
    // A /dev that leads to the root or into /proc or /sys: runc's tmpfs would hide the whole root,
    // or go under (or over) the kernel's own file system.
    const to = host.slice(rootfs.length) || '/';
    if (follow && (to === '/' || /^\/(proc|sys)(\/|$)/.test(to)))
      throw fail(`a symlink to ${to} (the root, or where the kernel's file systems go)`);
    let st: Stats;
    try {
      st = lstatSync(host);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw fail(`unreadable (${errnoCode(err)})`);
    }
    if (st.isDirectory()) continue;
    const inside = host.slice(rootfs.length);
    throw fail(`${kindOf(st, host)}${inside !== path ? ` (${path} leads to ${inside})` : ''}`);
  }
}
