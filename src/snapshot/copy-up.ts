// Hardlinks to files of lower layers, in overlay form. A layer may hardlink a file that an earlier
// layer added; its snapshot directory holds only its own layer, so the target is copied up from the
// lower snapshot that has it (as overlayfs itself copies up on write) and linked to there.
import { chmodSync, copyFileSync, lchownSync, lstatSync, utimesSync } from 'node:fs';
import { errnoCode } from '../lib/errors.js';
import { hostPath, resolveInRoot } from './resolve.js';

/**
 * The host path of `parts` in the topmost lower that has it, or undefined when none does, when a
 * whiteout (a 0/0 character device) hides it, or when it is not a regular file.
 */
export function findInLowers(lowers: readonly string[], parts: Buffer[]): Buffer | undefined {
  for (const lower of lowers) {
    const root = Buffer.from(lower);
    const path = hostPath(root, resolveInRoot(root, parts).resolved);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(path);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw err;
    }
    if (st.isCharacterDevice() && st.rdev === 0) return undefined;
    return st.isFile() ? path : undefined;
  }
  return undefined;
}

/** Copy a regular file with its owner, mode and times. */
export function copyUp(from: Buffer, to: Buffer, preserveOwnership: boolean): void {
  const st = lstatSync(from);
  copyFileSync(from, to);
  if (preserveOwnership) lchownSync(to, st.uid, st.gid);
  chmodSync(to, st.mode & 0o7777);
  utimesSync(to, st.atime, st.mtime);
}
