// A pod's fsGroup applied to a volume it mounts (a berth volume, for persistentVolumeClaim), as
// the kubelet's SetVolumeOwnership does it: every directory and regular file gets the group, group
// read (and write unless the mount is read-only), directories also search and setgid, so what is
// made in them keeps the group. `OnRootMismatch` skips the walk when the root is already so.
//
// The tree may be written by a running container (the same volume in another pod) while it is
// walked, so nothing is done by path: each entry is opened O_PATH|O_NOFOLLOW inside its parent's
// already-open descriptor (`/proc/self/fd/<dir>/<name>`, an openat), checked with fstat, and
// changed through its own descriptor (`/proc/self/fd/<fd>`). So a symlink is never followed
// (symlinks are left as they are), a directory swapped for a link mid-walk is never entered, and
// nothing outside the volume is reached. Not changed: a regular file with more than one link (a
// hard link may be a host file such as /etc/shadow: the file is skipped, counted), other mounts
// inside the volume, FIFOs, sockets and device nodes. The walk is linear in the tree's size; past
// MAX_DEPTH levels it is an error, never an unbounded descent (one open descriptor per level).
import { constants } from 'node:fs';
import { chmod, chown, type FileHandle, lstat, open, readdir, rmdir } from 'node:fs/promises';
import { BerthError, errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { O_PATH } from '../lib/o-path.js';
import type { ContainerMount } from './spec.js';

const FLAGS = O_PATH | constants.O_NOFOLLOW;
export const MAX_DEPTH = 256;

export type ChangePolicy = 'Always' | 'OnRootMismatch';

export interface OwnershipReport {
  /** Directories and files whose group and mode were set. */
  changed: number;
  /** Regular files with more than one hard link, left as they are. */
  skippedLinks: number;
  /** The walk was skipped: OnRootMismatch and the root already matched. */
  skipped: boolean;
}

/** The group bits fsGroup adds (the kubelet's rwMask/roMask, plus search and setgid on directories). Pure. */
export function fsGroupBits(isDir: boolean, readOnly: boolean): number {
  return (readOnly ? 0o440 : 0o660) | (isDir ? 0o110 | 0o2000 : 0);
}

/** Whether a root needs no change (OnRootMismatch): its group, and all the bits fsGroup adds. Pure. */
export function isRootMatching(st: { gid: number; mode: number }, gid: number, readOnly: boolean): boolean {
  const bits = fsGroupBits(true, readOnly);
  return st.gid === gid && (st.mode & bits) === bits;
}

const viaFd = (fh: FileHandle) => `/proc/self/fd/${fh.fd}`;

async function change(fh: FileHandle, st: { mode: number }, gid: number, dir: boolean, ro: boolean) {
  await chown(viaFd(fh), -1, gid);
  // chown drops a file's setuid/setgid: they are not given back (a directory keeps its bits).
  await chmod(viaFd(fh), (st.mode & (dir ? 0o7777 : 0o777)) | fsGroupBits(dir, ro));
}

export async function applyVolumeOwnership(
  root: string,
  gid: number,
  options: { readOnly?: boolean; policy?: ChangePolicy } = {},
): Promise<OwnershipReport> {
  const readOnly = options.readOnly === true;
  const report: OwnershipReport = { changed: 0, skippedLinks: 0, skipped: false };
  const top = await open(root, FLAGS);
  try {
    const st = await top.stat();
    if (!st.isDirectory())
      throw new BerthError('ERR_VOLUME_OWNERSHIP', 'invalid', `volume ${root} is not a directory`);
    if (options.policy === 'OnRootMismatch' && isRootMatching(st, gid, readOnly)) {
      report.skipped = true;
      return report;
    }
    await change(top, st, gid, true, readOnly);
    report.changed++;
    await walk(top, st.dev, 1);
  } finally {
    await top.close();
  }
  return report;

  async function walk(dir: FileHandle, dev: number, depth: number): Promise<void> {
    if (depth > MAX_DEPTH)
      throw new BerthError(
        'ERR_VOLUME_OWNERSHIP',
        'invalid',
        `volume ${root}: deeper than ${MAX_DEPTH} levels: fsGroup not applied below`,
      );
    for (const name of await readdir(viaFd(dir))) {
      const fh = await open(`${viaFd(dir)}/${name}`, FLAGS).catch((err) => {
        if (errnoCode(err) === 'ENOENT') return undefined; // removed meanwhile
        throw err;
      });
      if (!fh) continue;
      try {
        const st = await fh.stat();
        if (st.dev !== dev) continue; // another mount inside the volume: not the volume's
        if (st.isFile()) {
          if (st.nlink > 1) {
            report.skippedLinks++;
            continue;
          }
          await change(fh, st, gid, false, readOnly);
          report.changed++;
        } else if (st.isDirectory()) {
          await change(fh, st, gid, true, readOnly);
          report.changed++;
          await walk(fh, dev, depth + 1);
        }
      } finally {
        await fh.close();
      }
    }
  }
}

/**
 * A berth volume, made when missing, with its pod's fsGroup over its tree (as the kubelet at a
 * mount). One made here is taken away again by `undo` (a create that fails), if still empty.
 */
export async function makeBerthVolume(m: ContainerMount, undo?: Array<() => Promise<void>>): Promise<void> {
  const existed = await lstat(m.source).then(
    () => true,
    () => false,
  );
  await makeDirs(m.source);
  if (!existed) undo?.push(() => rmdir(m.source).catch(() => undefined));
  if (m.fsGroup)
    await applyVolumeOwnership(m.source, m.fsGroup.gid, {
      policy: m.fsGroup.policy,
      ...(m.fsGroup.readOnly ? { readOnly: true } : {}),
    });
}
