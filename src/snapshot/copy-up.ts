// Hardlinks to files of lower layers, in overlay form. A layer may hardlink a file that an earlier
// layer added; its snapshot directory holds only its own layer, so the target is copied up from the
// lower snapshot that has it (as overlayfs itself copies up on write) and linked to there.
//
// Invariant: only a file the merged view of the lowers still shows is copied up. A file a layer
// above deleted stays deleted: a whiteout at it or at a directory above it, a directory above it
// made opaque (trusted.overlay.opaque, read by python3: Node has no getxattr) or replaced by a
// non-directory all hide it from every lower beneath; so does a whiteout or opaque marker of the
// hardlink's own layer (`hiddenHere`). Without this a layer could bring back a secret an earlier
// layer removed, visible in containers though `image unpack` refused it.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  lchownSync,
  lstatSync,
  lutimesSync,
  readlinkSync,
  type Stats,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { BerthError, errnoCode } from '../lib/errors.js';
import { hostPath, resolveInRoot } from './resolve.js';

/** lstat, or undefined when nothing is there (or a parent is not a directory). */
export const lstatOrNone = (path: Buffer | string): Stats | undefined => {
  try {
    return lstatSync(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
};
const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

const OPAQUE_SCRIPT = `import os, sys
out = []
for p in sys.stdin.buffer.read().split(b'\\0'):
    try:
        v = os.getxattr(p, b'trusted.overlay.opaque', follow_symlinks=False)
    except OSError:
        v = b''
    out.append('1' if v == b'y' else '0')
sys.stdout.write(''.join(out))
`;

/** Which of `dirs` are opaque: asked of python3 once for the ones not cached (snapshots never change). */
export function opaqueDirs(dirs: Buffer[], cache: Map<string, boolean>): boolean[] {
  const key = (d: Buffer) => d.toString('latin1');
  const ask = dirs.filter((d, i) => !cache.has(key(d)) && dirs.findIndex((e) => e.equals(d)) === i);
  if (ask.length > 0) {
    const input = Buffer.concat(ask.flatMap((d, i) => (i === 0 ? [d] : [Buffer.from([0]), d])));
    // Isolated, without site (as fs-helper.ts runs it): nothing from the environment changes it.
    const r = spawnSync('python3', ['-I', '-S', '-c', OPAQUE_SCRIPT], { input, encoding: 'latin1' });
    if (r.status !== 0 || r.stdout.length !== ask.length)
      throw new BerthError(
        'ERR_UNPACK_FAILED',
        'internal',
        `reading opaque markers of lower layers: ${r.error?.message ?? (r.stderr.trim() || `python3 exited with ${r.status}`)}`,
      );
    for (const [i, d] of ask.entries()) cache.set(key(d), r.stdout[i] === '1');
  }
  return dirs.map((d) => cache.get(key(d)) === true);
}

/**
 * The host path of `parts` in the topmost lower that has it, or undefined when none does, when
 * anything above hides it (see the invariant), or when it is not a regular file.
 */
export function findInLowers(
  lowers: readonly string[],
  parts: Buffer[],
  opaqueCache: Map<string, boolean> = new Map(),
): Buffer | undefined {
  const slash = Buffer.from('/');
  for (const lower of lowers) {
    const root = Buffer.from(lower);
    // The directories above it in this lower, outermost first, as far as this lower has them.
    const seen: Buffer[] = [];
    let dir = root;
    for (const name of parts.slice(0, -1)) {
      dir = Buffer.concat([dir, slash, name]);
      const st = lstatOrNone(dir);
      if (!st) break; // not in this lower from here down: nothing of it hides anything
      // A symlink on the way: in the merged view it hides the layers beneath and leads elsewhere
      // (another layer's files, whiteouts there): never followed here, the hardlink is refused.
      if (st.isSymbolicLink()) return undefined;
      if (!st.isDirectory()) return undefined; // deleted (a whiteout) or replaced by a file here
      seen.push(dir);
    }
    const path = hostPath(root, resolveInRoot(root, parts).resolved);
    const st = lstatOrNone(path);
    if (st) {
      if (isWhiteout(st)) return undefined;
      // A hardlink may name a lower symlink or FIFO too (overlay copies any of them up).
      return st.isFile() || st.isSymbolicLink() || st.isFIFO() ? path : undefined;
    }
    if (opaqueDirs(seen, opaqueCache).some(Boolean)) return undefined; // the lowers beneath are hidden
  }
  return undefined;
}

/** Copy a regular file with its owner, mode and times. */
export function copyUp(from: Buffer, to: Buffer, preserveOwnership: boolean): void {
  const st = lstatSync(from);
  if (st.isSymbolicLink()) {
    // The link itself, never what it points at (a FIFO is made by the caller: Node has no mknod).
    symlinkSync(readlinkSync(from, { encoding: 'buffer' }), to);
    if (preserveOwnership) lchownSync(to, st.uid, st.gid);
    lutimesSync(to, st.atime, st.mtime);
    return;
  }
  copyFileSync(from, to);
  if (preserveOwnership) lchownSync(to, st.uid, st.gid);
  chmodSync(to, st.mode & 0o7777);
  utimesSync(to, st.atime, st.mtime);
}
