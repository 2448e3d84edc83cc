// A host path berth makes, checks or mounts as root (a pod's hostPath, `container create -v`),
// resolved by descriptors, so that what is checked is what gets mounted. With
// fs.protected_symlinks=0 a local user who owns a directory along the path (one of theirs in /tmp)
// could otherwise show berth a directory, then rename it away and put a link to /etc in its place
// before runc looks the path up again.
//
// The walk opens `/`, then each part inside the directory it holds open (`/proc/self/fd/N/NAME` is
// openat(N, NAME)) with O_PATH|O_NOFOLLOW: a part that is a symlink is opened as the link, judged
// by sticky-links.ts against the directory held open (the kernel's protected_symlinks rule), and
// its target walked on from there (an absolute one from `/`), as the kernel walks it: `..` is taken
// from the directory reached, after the links before it are followed, never as text. What the walk
// ends on is an open O_PATH descriptor of that inode: whatever is renamed or replaced after, the
// caller checks (fstat) and binds that one (runtime/host-path-open.ts).
//
// A link's target is read by its name in the directory held open, then the name is looked at again:
// the same inode, or the part is walked again (bounded with the links, 40, the kernel's own limit).
// Missing parts the path itself names are made when asked (mkdir, or O_CREAT|O_EXCL|O_NOFOLLOW for
// a file), then opened like any other; a part only a link's target names is never made (a dangling
// link is not made a directory through).

import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  type Stats,
} from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { errnoCode } from './errors.js';
import { O_PATH } from './o-path.js';
import { isPlantedLink, plantedLinkError } from './sticky-links.js';

const STEP = O_PATH | constants.O_NOFOLLOW;
const DIR = O_PATH | constants.O_DIRECTORY;
const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const MAX_LINKS = 40;
const SLASH = 0x2f;

export interface HostPathWalk {
  /** Names the path in errors ("pod web: hostPath /tmp/x"). */
  what: string;
  /** Make each missing directory the path names, with this mode (through the umask, as mkdir -p). */
  makeDirs?: number;
  /** Make the path's last part, when missing, an empty file with this mode (its directory must exist). */
  makeFile?: number;
}

/**
 * An open O_PATH descriptor of what the path leads to (the caller closes it), or the first part
 * that is missing: one of the path's own directories, its last part, or a part a link names.
 */
export type WalkedHostPath =
  | { fd: number; stat: Stats }
  | { missing: string; part: 'parent' | 'last' | 'link' };

interface Part {
  name: Buffer;
  /** Named by the path itself, not by a link's target. */
  own: boolean;
}

const partsOf = (path: Buffer): Buffer[] => {
  const out: Buffer[] = [];
  for (let from = 0; from <= path.length; ) {
    const end = path.indexOf(SLASH, from);
    const name = path.subarray(from, end === -1 ? path.length : end);
    if (name.length > 0 && !(name.length === 1 && name[0] === 0x2e)) out.push(name);
    if (end === -1) break;
    from = end + 1;
  }
  return out;
};

const isDotDot = (name: Buffer) => name.length === 2 && name[0] === 0x2e && name[1] === 0x2e;
const inDir = (fd: number, name: Buffer) => Buffer.concat([Buffer.from(`/proc/self/fd/${fd}/`), name]);
const walkError = (message: string, code: string) => Object.assign(new Error(message), { code });

/** Resolve `path` as described above; throws ERR_HOSTPATH_UNSAFE for a planted link, errno errors else. */
export function walkHostPath(path: string, o: HostPathWalk): WalkedHostPath {
  const absolute = isAbsolute(path) ? path : `${process.cwd()}/${path}`;
  let todo: Part[] = partsOf(Buffer.from(absolute)).map((name) => ({ name, own: true }));
  let cur = openSync('/', DIR);
  let at = '/';
  let links = 0;
  try {
    while (todo.length > 0) {
      const part = todo.shift() as Part;
      const last = todo.length === 0;
      if (isDotDot(part.name)) {
        cur = replace(cur, openSync(inDir(cur, part.name), DIR));
        at = dirname(at);
        continue;
      }
      const here = `${at === '/' ? '' : at}/${part.name.toString()}`;
      const next = named(here, () => openPart(cur, part, last, o));
      if (next === undefined) {
        closeSync(cur);
        return { missing: here, part: !part.own ? 'link' : last ? 'last' : 'parent' };
      }
      const st = fstatSync(next);
      if (!st.isSymbolicLink()) {
        if (!last && !st.isDirectory()) {
          closeSync(next);
          throw walkError(`${here} is not a directory`, 'ENOTDIR');
        }
        cur = replace(cur, next);
        at = here;
        continue;
      }
      try {
        if (isPlantedLink(fstatSync(cur), st))
          throw plantedLinkError(o.what, { link: here, owner: st.uid, dir: at });
        if (++links > MAX_LINKS) throw walkError(`${here}: too many levels of symbolic links`, 'ELOOP');
        const target = readLinkIn(cur, part.name, st);
        if (target === undefined) {
          todo.unshift(part); // replaced since it was opened: looked at again
          continue;
        }
        if (target[0] === SLASH) {
          cur = replace(cur, openSync('/', DIR));
          at = '/';
        }
        todo = [...partsOf(target).map((name) => ({ name, own: false })), ...todo];
      } finally {
        closeSync(next);
      }
    }
    return { fd: cur, stat: fstatSync(cur) };
  } catch (err) {
    closeSync(cur);
    throw err;
  }
}

/** `step`, its errno error said of `here` (not of the `/proc/self/fd/N/…` it was asked by). */
function named<T>(here: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    const code = errnoCode(err);
    if (code === undefined || !(err instanceof Error)) throw err;
    throw walkError(`${here}: ${err.message.split(',')[0]}`, code);
  }
}

function replace(old: number, next: number): number {
  closeSync(old);
  return next;
}

/** The part opened O_PATH|O_NOFOLLOW in `dir`, made first when asked and missing; undefined: missing. */
function openPart(dir: number, part: Part, last: boolean, o: HostPathWalk): number | undefined {
  const at = inDir(dir, part.name);
  const found = openIfThere(at);
  if (found !== undefined || !part.own) return found;
  try {
    if (last && o.makeFile !== undefined) closeSync(openSync(at, NEW_FILE, o.makeFile));
    else if (o.makeDirs !== undefined) mkdirSync(at, o.makeDirs);
    else return undefined;
  } catch (err) {
    // Made meanwhile (a link too): opened below with O_NOFOLLOW like any other.
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
  return openIfThere(at);
}

function openIfThere(at: Buffer): number | undefined {
  try {
    return openSync(at, STEP);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** The target of the link `name` in `dir`, if that name still holds the link `link` once read. */
function readLinkIn(dir: number, name: Buffer, link: Stats): Buffer | undefined {
  const at = inDir(dir, name);
  let target: Buffer;
  try {
    target = readlinkSync(at, { encoding: 'buffer' });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'EINVAL') return undefined; // gone, or no longer a link
    throw err;
  }
  const still = lstatSync(at, { throwIfNoEntry: false });
  return still && still.ino === link.ino && still.dev === link.dev ? target : undefined;
}
