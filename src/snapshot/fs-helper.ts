// What Node cannot do itself: device nodes and fifos (no mknod), overlay whiteouts (0/0 character
// devices), the opaque marker and image xattrs. One python3 process per layer does them all at the
// layer's end (one process per entry cost 0.5 s on a layer with 135 whiteouts), reading
// NUL-separated records on stdin, so a name is passed byte for byte whatever its encoding.
//
// Invariants: the helper never follows a symlink. It opens the layer root, then every parent
// component with O_DIRECTORY|O_NOFOLLOW relative to the one before (openat), and acts on the last
// component through that handle; a parent that is not a real directory fails the layer. Callers
// pass only paths whose parents they know are real directories now (layer-writer.ts).
import { spawnSync } from 'node:child_process';
import { BerthError } from '../lib/errors.js';

export type HelperOp =
  | {
      op: 'special';
      rel: Buffer;
      kind: 'p' | 'c' | 'b';
      major: number;
      minor: number;
      mode: number;
      uid: number;
      gid: number;
      mtime: Date;
    }
  | { op: 'xattr'; rel: Buffer; name: string; value: Buffer }
  /** Overlay form: a 0/0 device, unless this layer has something there (a directory then becomes opaque). */
  | { op: 'whiteout'; rel: Buffer }
  | { op: 'opaque'; rel: Buffer };

const SCRIPT = String.raw`
import os, stat, sys
f = sys.stdin.buffer.read().split(b'\0')
os.umask(0)
root = f[0]
cache = {}
def parent(rel):
    i = rel.rfind(b'/')
    d, name = (rel[:i], rel[i + 1:]) if i >= 0 else (b'', rel)
    if name in (b'', b'.', b'..'):
        raise OSError(22, 'not a single name')
    fd = cache.get(d)
    if fd is None:
        if d == b'':
            fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        else:
            pfd, pn = parent(d)
            fd = os.open(pn, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=pfd)
        cache[d] = fd
    return fd, name
def proc(fd, name):
    return b'/proc/self/fd/%d/' % fd + name
def opaque(fd, name):
    os.setxattr(proc(fd, name), b'trusted.overlay.opaque', b'y', follow_symlinks=False)
i = 1
try:
    while i < len(f) - 1:
        op = f[i]; rel = f[i + 1]
        fd, name = parent(rel)
        if op == b'S':
            kind, major, minor, mode, uid, gid, ns = f[i + 2:i + 9]; i += 9
            t = {b'p': stat.S_IFIFO, b'c': stat.S_IFCHR, b'b': stat.S_IFBLK}[kind]
            os.mknod(name, t | (int(mode) & 0o777), os.makedev(int(major), int(minor)), dir_fd=fd)
            if int(uid) >= 0:
                os.chown(name, int(uid), int(gid), dir_fd=fd, follow_symlinks=False)
            os.chmod(name, int(mode) & 0o7777, dir_fd=fd)
            os.utime(name, ns=(int(ns), int(ns)), dir_fd=fd, follow_symlinks=False)
        elif op == b'X':
            os.setxattr(proc(fd, name), f[i + 2], bytes.fromhex(f[i + 3].decode()), follow_symlinks=False)
            i += 4
        elif op == b'W':
            i += 2
            try:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                os.mknod(name, stat.S_IFCHR | 0o644, 0, dir_fd=fd)
            else:
                if stat.S_ISDIR(st.st_mode):
                    opaque(fd, name)
        elif op == b'O':
            i += 2
            opaque(fd, name)
        else:
            raise OSError(22, 'unknown op')
except OSError as e:
    sys.stderr.write('%s: %s' % (os.fsdecode(rel), e.strerror or e))
    sys.exit(1)
`;

const NUL = Buffer.from([0]);
const str = (v: string | number | bigint) => Buffer.from(String(v));

function encode(op: HelperOp): Buffer[] {
  switch (op.op) {
    case 'special':
      return [
        str('S'),
        op.rel,
        str(op.kind),
        str(op.major),
        str(op.minor),
        str(op.mode),
        str(op.uid),
        str(op.gid),
        str(BigInt(op.mtime.getTime()) * 1_000_000n),
      ];
    case 'xattr':
      return [str('X'), op.rel, str(op.name), str(op.value.toString('hex'))];
    case 'whiteout':
      return [str('W'), op.rel];
    case 'opaque':
      return [str('O'), op.rel];
  }
}

/**
 * Apply `ops` in order under `root`, in one helper process. Ownership of specials is kept only
 * when `uid >= 0` (the caller decides, as for files).
 */
export function runHelper(root: Buffer, ops: HelperOp[]): void {
  if (ops.length === 0) return;
  const parts: Buffer[] = [root, NUL];
  for (const op of ops) for (const field of encode(op)) parts.push(field, NUL);
  const r = spawnSync('python3', ['-c', SCRIPT], {
    input: Buffer.concat(parts),
    stdio: ['pipe', 'ignore', 'pipe'],
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) {
    throw new BerthError(
      'ERR_UNPACK_FAILED',
      'internal',
      `making device nodes, whiteouts or xattrs: ${r.stderr?.toString().trim() || r.error?.message || `python3 exited with ${r.status}`}`,
    );
  }
}
