// A container's working directory in its mounted rootfs, before runc sees it: what the image has
// there must be a directory, and one that is missing is made where the image's symlinks lead
// (inside the rootfs), as Docker makes it. runc 1.1 makes a missing one itself, but not through a
// dangling symlink (`/work -> /srv/work`, or one aimed out of the root, `../../x`): its mkdir meets
// the link and fails, said as a bare "file exists" from runc create.
import { lstatSync } from 'node:fs';
import { dirname, posix } from 'node:path';
import { BerthError } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import type { IdRange } from './id-range.js';
import { followInRoot } from './rootfs.js';
import { ownByPodRoot } from './userns-rootfs.js';

export interface WorkdirSource {
  /** The image's reference. */
  image: string;
  /** The container gave it (`-w`, a pod's workingDir), rather than the image's WorkingDir. */
  given: boolean;
  /** A hostUsers: false pod's range: what berth makes is its root's. */
  idRange?: IdRange;
  /** The container's mount destinations: a working directory in one is not the image's to judge. */
  mounts?: string[];
}

const isAtOrUnder = (path: string, dir: string) => {
  const d = posix.normalize(`${dir}/`);
  return posix.normalize(`${path}/`).startsWith(d);
};

const exists = (path: string) => {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
};

/** `cwd` (checked not under /proc: rootfs-checks.ts) as a directory of the rootfs. */
export async function prepareWorkdir(rootfs: string, cwd: string, o: WorkdirSource): Promise<void> {
  if ((o.mounts ?? []).some((m) => isAtOrUnder(cwd, m))) return; // runc makes it there, as before
  const named = o.given ? `working directory "${cwd}"` : `image "${o.image}": config.WorkingDir "${cwd}"`;
  const host = followInRoot(rootfs, cwd);
  if (host === undefined) throw invalidWorkdir(`${named}: too many symbolic links in the image`);
  const st = exists(host);
  if (st?.isDirectory()) return;
  const inside = host.slice(rootfs.length) || '/';
  const where = inside === cwd ? '' : ` (it leads to ${inside})`;
  if (st) throw invalidWorkdir(`${named} is not a directory in the image${where}`);
  const missing: string[] = [];
  for (let d = host; d.length > rootfs.length && !exists(d); d = dirname(d)) missing.unshift(d);
  // followInRoot resolved every part that exists: what is missing is plain names under its parent.
  const parent = dirname(missing[0] ?? host);
  if (!exists(parent)?.isDirectory())
    throw invalidWorkdir(`${named}: ${parent.slice(rootfs.length)} is not a directory in the image`);
  if (o.idRange) await ownByPodRoot(missing, o.idRange);
  else await makeDirs(host);
}

function invalidWorkdir(message: string): BerthError {
  return new BerthError('ERR_WORKDIR_INVALID', 'invalid', message);
}
