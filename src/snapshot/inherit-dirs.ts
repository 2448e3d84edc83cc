// Overlay form: a directory a layer made only as the parent of its entries (no entry of its own, as
// `crane append`, rules_pkg or a hand-made tar leave them) is an upper directory over the lower
// layer's: overlayfs shows the upper one's mode, owner and times, so /tmp would lose its 1777 and a
// 0700 home become world-readable. It takes those of the lower directory it covers (the topmost
// lower that has one there, reached without a symlink: a lower symlink or file there is not covered
// but replaced), as containerd's applier does when it makes a parent. Nothing else is changed.
import { chmodSync, lchownSync, type Stats, utimesSync } from 'node:fs';
import { lstatOrNone } from './copy-up.js';

const SLASH = Buffer.from('/');

/** The topmost lower's directory at `rel`, or undefined when a lower has something else on the way. */
function lowerDirOf(lowers: readonly string[], rel: Buffer): Stats | undefined {
  const parts = rel.toString('latin1').split('/').filter(Boolean);
  for (const lower of lowers) {
    let path = Buffer.from(lower);
    let st: Stats | undefined;
    for (const name of parts) {
      path = Buffer.concat([path, SLASH, Buffer.from(name, 'latin1')]);
      st = lstatOrNone(path);
      if (!st) break; // not in this lower: look lower
      if (!st.isDirectory()) return undefined; // a file, symlink or whiteout: nothing below shows
    }
    if (st?.isDirectory()) return st;
  }
  return undefined;
}

export function inheritDirMeta(root: string, lowers: readonly string[], rels: Buffer[], own: boolean): void {
  for (const rel of rels) {
    const from = lowerDirOf(lowers, rel);
    if (!from) continue;
    const dest = Buffer.concat([Buffer.from(root), SLASH, rel]);
    if (!lstatOrNone(dest)?.isDirectory()) continue;
    if (own) lchownSync(dest, from.uid, from.gid); // before chmod: a chown clears setgid
    chmodSync(dest, from.mode & 0o7777);
    utimesSync(dest, from.atime, from.mtime);
  }
}
