// Overlay form: the symlinks an earlier layer made on the way to a layer's entries. A layer whose
// entry is `lib/b`, over a lower `lib -> usr/lib` (usrmerge), puts `b` in usr/lib, as umoci,
// containerd's native snapshotter, GNU tar and `berth image unpack` (native form: the whole tree is
// there) apply it; made as a directory `lib` in the layer's own snapshot, it would hide the lower
// link, and usr/lib with it, in every container of the image. Pure reads of the lower snapshots.
//
// A layer is first unpacked without its lowers (they may not exist yet): the directories it made
// as parents are listed, and once the lowers exist `mayMeetLowerSymlink` says whether one of them
// stands where the merged lowers show a symlink; the layer is then unpacked again with its lowers,
// its writer resolving through `lowerSymlink` (resolve.ts), inside the root as ever.
import { readlinkSync, type Stats } from 'node:fs';
import { lstatOrNone, opaqueDirs } from './copy-up.js';

const SLASH = Buffer.from('/');

/**
 * The target of the symlink the merged view of `lowers` (top first) shows at `parts`, whose
 * parents that view shows as directories; undefined when it shows anything else there, or
 * nothing. Opaque directories are read through `opaqueCache` (copy-up.ts).
 */
export function lowerSymlink(
  lowers: readonly string[],
  parts: Buffer[],
  opaqueCache: Map<string, boolean>,
): Buffer | undefined {
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
    // A whiteout, a file or a directory: no link (a whiteout hides the lowers beneath as well).
    if (st) return st.isSymbolicLink() ? readlinkSync(path, { encoding: 'buffer' }) : undefined;
    if (seen.length > 0 && opaqueDirs(seen, opaqueCache).some(Boolean)) return undefined;
  }
  return undefined;
}

/**
 * Whether any of `dirs` (relative to the layer's root, parents listed before their children) may
 * stand where the lowers show a symlink: the topmost lower with anything at a path decides. A
 * directory no lower has anything at has nothing beneath it either: its children are not looked
 * up (a layer that adds a deep new tree costs a look per lower at its top only).
 */
export function mayMeetLowerSymlink(lowers: readonly string[], dirs: Buffer[]): boolean {
  const absent = new Set<string>();
  for (const rel of dirs) {
    const key = rel.toString('latin1');
    const cut = key.lastIndexOf('/');
    if (cut > 0 && absent.has(key.slice(0, cut))) {
      absent.add(key);
      continue;
    }
    let st: Stats | undefined;
    for (const lower of lowers) {
      st = lstatOrNone(Buffer.concat([Buffer.from(lower), SLASH, rel]));
      if (st) break;
    }
    if (!st) absent.add(key);
    else if (st.isSymbolicLink()) return true;
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
