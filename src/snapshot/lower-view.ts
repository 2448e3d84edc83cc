// Overlay form: the symlinks (and files) an earlier layer made on the way to a layer's entries. A layer whose
// entry is `lib/b`, over a lower `lib -> usr/lib` (usrmerge), puts `b` in usr/lib, as umoci,
// containerd's native snapshotter, GNU tar and `berth image unpack` (native form: the whole tree is
// there) apply it; made as a directory `lib` in the layer's own snapshot, it would hide the lower
// link, and usr/lib with it, in every container of the image. A lower file there is no directory
// to put anything in: refused, as native form and umoci refuse it. Pure reads of the lower snapshots.
//
// A layer is first unpacked without its lowers (they may not exist yet): the directories it made
// as parents are listed, and once the lowers exist `mayMeetLowerEntry` says whether one of them
// stands where the merged lowers show a symlink or a file; the layer is then unpacked again with its
// lowers, its writer resolving through `lowerEntry` (resolve.ts), inside the root as ever.
import { readlinkSync, type Stats } from 'node:fs';
import { lstatOrNone, opaqueDirs } from './copy-up.js';

const SLASH = Buffer.from('/');

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

/** What the merged lowers show at a path: a symlink (its target), something that is no directory. */
export type LowerEntry = { link: Buffer } | 'not-dir' | undefined;

/**
 * What the merged view of `lowers` (top first) shows at `parts`, whose parents that view shows as
 * directories: a symlink, a file, fifo or device ('not-dir'), or undefined for a directory or
 * nothing (a whiteout). Opaque directories are read through `opaqueCache` (copy-up.ts).
 */
export function lowerEntry(
  lowers: readonly string[],
  parts: Buffer[],
  opaqueCache: Map<string, boolean>,
): LowerEntry {
  if (parts.length === 0) return undefined;
  for (const lower of lowers) {
    const seen: Buffer[] = [];
    let path = Buffer.from(lower);
    let st: Stats | undefined;
    for (const [k, name] of parts.entries()) {
      path = Buffer.concat([path, SLASH, name]);
      st = lstatOrNone(path);
      if (!st) break; // not in this lower: look lower, unless a directory on the way is opaque
      if (k === parts.length - 1) break;
      // A whiteout, a file or a symlink above it in this lower hides it here and beneath.
      if (!st.isDirectory()) return undefined;
      seen.push(path);
    }
    if (st) return describe(st, path);
    if (seen.length > 0 && opaqueDirs(seen, opaqueCache).some(Boolean)) return undefined;
  }
  return undefined;
}

function describe(st: Stats, path: Buffer): LowerEntry {
  if (st.isSymbolicLink()) return { link: readlinkSync(path, { encoding: 'buffer' }) };
  return st.isDirectory() || isWhiteout(st) ? undefined : 'not-dir';
}

/**
 * Whether any of `dirs` (relative to the layer's root, parents listed before their children) may
 * stand where the lowers show a symlink or no directory: the topmost lower with anything at a path
 * decides. A directory no lower has anything at has nothing beneath it either: its children are
 * not looked up (a layer adding a deep new tree costs a look per lower at its top only). Each path
 * is walked a part at a time, as `lowerEntry` walks it, never through a lower's symlink (one to
 * /proc or to an automount would have the host's file system looked at); a symlink or file on the
 * way counts as met (at worst the layer is unpacked again, where `lowerEntry` decides).
 */
export function mayMeetLowerEntry(lowers: readonly string[], dirs: Buffer[]): boolean {
  const absent = new Set<string>();
  const seen = new Map<string, Stats | undefined>();
  const look = (path: Buffer) => {
    const key = path.toString('latin1');
    if (!seen.has(key)) seen.set(key, lstatOrNone(path));
    return seen.get(key);
  };
  for (const rel of dirs) {
    const key = rel.toString('latin1');
    const cut = key.lastIndexOf('/');
    if (cut > 0 && absent.has(key.slice(0, cut))) {
      absent.add(key);
      continue;
    }
    const parts = splitParts(rel);
    let found = false;
    for (const lower of lowers) {
      let path = Buffer.from(lower);
      let st: Stats | undefined;
      let hidden = false;
      for (const [k, name] of parts.entries()) {
        path = Buffer.concat([path, SLASH, name]);
        st = look(path);
        if (!st || k === parts.length - 1) break;
        if (st.isDirectory()) continue;
        if (!isWhiteout(st)) return true; // a symlink or file on the way
        hidden = true; // whited out on the way: nothing beneath, in this lower or lower ones
        break;
      }
      found = hidden;
      if (hidden) break;
      if (!st) continue;
      if (describe(st, path)) return true;
      found = true;
      break;
    }
    if (!found) absent.add(key);
  }
  return false;
}

/** A relative path of clean components (as the writer lists them) split at its slashes. */
export function splitParts(rel: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= rel.length; i++) {
    if (i === rel.length || rel[i] === 0x2f) {
      if (i > start) out.push(rel.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}
