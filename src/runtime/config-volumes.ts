// Writing a config volume (configMap, secret, downwardAPI, projected) the way the kubelet's
// AtomicWriter does, so a running container sees an update whole and at once, never half of it:
//
//   <volume>/..<stamp>/…files…      one complete content, written first (the stamp names it)
//   <volume>/..data -> ..<stamp>     swapped by rename(2): the one atomic step of an update
//   <volume>/<name> -> ..data/<name> one link per top-level entry, so paths stay the same
//
// then links no longer wanted and every other `..*` content are removed, and berth records the
// volume as it left it, outside the volume (config-volume-record.ts): only a volume as berth left
// it counts as holding its stamp; one a container could have changed is written again. A subPath
// mount binds one content's file (sub-path-mounts.ts), which later updates do not change, as in
// Kubernetes.
//
// Invariants: nothing is followed: every name is created with O_EXCL (a planted symlink fails the
// write rather than being written through), removed without following (rm of a link removes the
// link), and renamed as a name. A content directory exists under its final name only once whole,
// and is never replaced in place: content of a stamp already there (one berth cannot vouch for) is
// written under a name of its own (`..<stamp><suffix>`), so `..data` never names a missing one.
// Files are fsynced before the swap: after a power cut `..data` names old content or new.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync } from 'node:fs';
import { chmod, lchown, lstat, mkdir, open, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BerthError, errnoCode } from '../lib/errors.js';
import { O_PATH } from '../lib/o-path.js';
import { fsyncDir } from '../lib/write-atomic.js';
import {
  DATA_LINK,
  dataTargetSync,
  recordPathOf,
  recordVolume,
  trustedContentSync,
  trustedStampSync,
} from './config-volume-record.js';
import { insidePathProblem, type OpenedSubPath, openSubPathIn } from './sub-path.js';

const STAMP = /^[0-9a-f]{8,64}$/;

export interface ConfigFile {
  path: string;
  mode: number;
  data: Buffer;
  /** Its group (the pod's fsGroup): then the directories holding it are that group's, setgid. */
  gid?: number;
}

/**
 * `<volume>/..<stamp>`: the content a subPath mount is taken from; refused unless the volume is as
 * berth last wrote it (config-volume-record.ts).
 */
export async function currentDataDir(volume: string, record = recordPathOf(volume)): Promise<string> {
  const target = trustedContentSync(volume, record)?.target;
  if (!target)
    throw new BerthError(
      'ERR_SUBPATH_UNSAFE',
      'invalid',
      `volume ${volume} holds no content berth wrote (none yet, or changed since)`,
    );
  return join(volume, target);
}

/**
 * `subPath` of a config volume opened inside its current content (`..<stamp>`, which no later
 * update changes, as in Kubernetes), that content directory opened without following a link: only
 * the volume's own path is trusted. A link in its place (planted by a container that could write the
 * directory while it was another kind of volume) would otherwise have the subPath taken wherever it
 * points on the host; it is refused, ERR_SUBPATH_UNSAFE.
 */
export async function openDataSubPath(volume: string, subPath: string): Promise<OpenedSubPath> {
  const content = await currentDataDir(volume);
  let fd: number;
  try {
    fd = openSync(content, O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new BerthError(
      'ERR_SUBPATH_UNSAFE',
      'invalid',
      `volume ${volume}: its content ${basename(content)} is not a directory (${errnoCode(err) ?? String(err)}): no subPath is taken from it`,
    );
  }
  try {
    return openSubPathIn(fd, content, subPath);
  } finally {
    closeSync(fd);
  }
}

/**
 * Who the content belongs to on the host: root, or a hostUsers: false pod's root (`uid`, its range's
 * base); the group is the fsGroup when there is one, taken into that range with it.
 */
interface HostOwner {
  uid: number;
  /** Host gid of an in-pod group id. */
  gidOf(group: number | undefined): number | undefined;
}

const ownerOf = (base: number | undefined): HostOwner => ({
  uid: base ?? 0,
  gidOf: (group) => (group === undefined ? base : (base ?? 0) + group),
});

/** A directory of the content: the owner's, and the fsGroup's, setgid, when there is one (lchown: it was just made, never a link). */
async function makeContentDir(path: string, owner: HostOwner, group: number | undefined): Promise<void> {
  await mkdir(path, 0o755);
  const gid = owner.gidOf(group);
  if (gid === undefined) return;
  await lchown(path, owner.uid, gid);
  if (group !== undefined) await chmod(path, 0o2755);
}

/**
 * The components of a file's path in a volume's content, refused unless it stays inside (the rule
 * subPaths follow: sub-path.ts) and names none of the kubelet's own `..` entries (`..data`,
 * `..<stamp>`: ValidateLocalNonReservedPath). The manifest's schema refuses those too; this is the
 * last word before a file is made as root.
 */
export function contentPathParts(path: string): string[] {
  if (insidePathProblem(path) !== undefined || path.startsWith('..'))
    throw new BerthError(
      'ERR_VOLUME_PATH',
      'invalid',
      `${JSON.stringify(path)} is not a path inside its volume`,
    );
  return path.split('/');
}

async function writeContent(
  dir: string,
  files: ConfigFile[],
  group: number | undefined,
  owner: HostOwner,
): Promise<void> {
  const paths = files.map((f) => contentPathParts(f.path)); // all of them before anything is made
  await makeContentDir(dir, owner, group);
  for (const [i, f] of files.entries()) {
    const parts = paths[i] as string[];
    let parent = dir;
    for (const part of parts.slice(0, -1)) {
      parent = join(parent, part);
      await makeContentDir(parent, owner, group).catch((err) => {
        if (errnoCode(err) !== 'EEXIST') throw err;
      });
      if (!(await lstat(parent)).isDirectory())
        throw new BerthError('ERR_VOLUME_PATH', 'invalid', `${f.path}: a file and a directory of one name`);
    }
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const h = await open(join(dir, ...parts), flags, f.mode).catch((err) => {
      if (errnoCode(err) === 'EEXIST')
        throw new BerthError('ERR_VOLUME_PATH', 'invalid', `${f.path} is given twice in one volume`);
      throw err;
    });
    try {
      await h.writeFile(f.data);
      const gid = owner.gidOf(f.gid);
      if (gid !== undefined) await h.chown(owner.uid, gid); // a hostUsers: false pod's root, the fsGroup
      await h.chmod(f.mode); // the umask never decides a file's mode (and chown cleared no bit after it)
      await h.sync();
    } finally {
      await h.close();
    }
  }
}

/** Point `name` at `target` by renaming a fresh link over it (never a moment without one). */
async function swapLink(
  volume: string,
  name: string,
  target: string,
  owner?: { uid: number; gid: number },
): Promise<void> {
  const tmp = join(volume, `..tmp-link-${process.pid}`);
  await rm(tmp, { recursive: true, force: true }); // whatever a crash or a container left there
  await symlink(target, tmp);
  if (owner) await lchown(tmp, owner.uid, owner.gid);
  await rename(tmp, join(volume, name));
}

/**
 * Make `volume` hold exactly `files` under `stamp`; a volume as berth last left it at `stamp` is left
 * as it is. `volume` must exist (the pod's sandbox makes it, on tmpfs for secrets).
 */
export async function writeConfigVolume(
  volume: string,
  stamp: string,
  files: ConfigFile[],
  options: {
    /** The host uid (and gid) the files belong to: a hostUsers: false pod's root; else root. */
    base?: number;
    /** Where berth records what it wrote (config-volume-record.ts): `<pod>/volume-stamps/<name>`. */
    record?: string;
  } = {},
): Promise<void> {
  if (!STAMP.test(stamp)) throw new BerthError('ERR_INTERNAL', 'internal', `bad volume stamp ${stamp}`);
  const record = options.record ?? recordPathOf(volume);
  if (trustedStampSync(volume, record) === stamp) return;
  let entries = await readdir(volume);
  // A volume that was something else before (an emptyDir of the same name), or whose `..data` is no
  // link to a content (a directory left there: the swap below could never replace it), starts empty.
  if (dataTargetSync(volume) === undefined) {
    for (const e of entries) await rm(join(volume, e), { recursive: true, force: true });
    entries = [];
  }
  // A content of this stamp already there is not berth's to vouch for, and may be what `..data`
  // names now: the new one gets a name of its own, and the old goes once `..data` has moved.
  const taken = entries.includes(`..${stamp}`);
  const name = taken ? `..${stamp}${randomBytes(4).toString('hex')}` : `..${stamp}`;
  const content = join(volume, name);
  const building = join(volume, `..tmp-${name.slice(2)}`);
  await rm(building, { recursive: true, force: true }); // left by a crash
  const owner = ownerOf(options.base);
  const group = files.find((f) => f.gid !== undefined)?.gid;
  // A write that fails leaves the volume as it found it (its record still holds: the old content stays current).
  await writeContent(building, files, group, owner).catch(async (err: unknown) => {
    await rm(building, { recursive: true, force: true });
    throw err;
  });
  const gid = owner.gidOf(group);
  const links = gid === undefined ? undefined : { uid: owner.uid, gid };
  await fsyncDir(building);
  await rename(building, content);
  await swapLink(volume, DATA_LINK, name, links);
  const top = new Set(files.map((f) => f.path.split('/')[0] as string));
  for (const entry of top) {
    const target = `${DATA_LINK}/${entry}`;
    const now = await readlink(join(volume, entry)).catch(() => undefined);
    if (now !== target) {
      // A name that is not our link (left by a crash as something else) is replaced.
      const st = await lstat(join(volume, entry)).catch(() => undefined);
      if (st && !st.isSymbolicLink()) await rm(join(volume, entry), { recursive: true, force: true });
      await swapLink(volume, entry, target, links);
    }
  }
  for (const e of await readdir(volume)) {
    if (e === DATA_LINK || e === name || top.has(e)) continue;
    await rm(join(volume, e), { recursive: true, force: true });
  }
  await fsyncDir(volume);
  await recordVolume(volume, stamp, name, record);
}
