// What Node cannot do itself: device nodes and fifos (no mknod), hardlinks to them (made after
// them), overlay whiteouts (0/0 character devices), the opaque marker and image xattrs (from the
// tar, or copied from a lower layer's file copied up for a hardlink). One long-lived python3 process per unpack thread
// does them all, a batch at each layer's end (one process per entry cost 0.5 s on a layer with 135
// whiteouts), reading NUL-separated records on stdin, so a name is passed byte for byte whatever
// its encoding; it answers each batch with one line, `ok` or `err <what>`.
//
// Invariants: the helper never follows a symlink. It opens the layer root, then every parent
// component with O_DIRECTORY|O_NOFOLLOW relative to the one before (openat), and acts on the last
// component through that handle; a parent that is not a real directory fails the layer. Callers
// pass only paths whose parents they know are real directories now (layer-writer.ts).
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
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
  /** The image xattrs (user.*, security.capability) of `from`, a lower snapshot's file, onto `rel`. */
  | { op: 'copyxattrs'; rel: Buffer; from: Buffer }
  /** Overlay form: a 0/0 device, unless this layer has something there (a directory then becomes opaque). */
  | { op: 'whiteout'; rel: Buffer }
  | { op: 'opaque'; rel: Buffer }
  /** A hardlink at `rel` to `target` (both under the root), a device or fifo made in this batch. */
  | { op: 'link'; rel: Buffer; target: Buffer };

const SCRIPT = String.raw`
import os, stat, sys
os.umask(0)
def fields():
    rest = b''
    while True:
        chunk = os.read(0, 1 << 20)
        if not chunk:
            return
        parts = (rest + chunk).split(b'\0')
        rest = parts.pop()
        yield from parts
def take(it, n):
    out = [next(it) for _ in range(n)]
    return out
SIZES = {b'S': 8, b'X': 3, b'C': 2, b'W': 1, b'O': 1, b'L': 2}
it = fields()
for first in it:
    if first != b'R':
        sys.exit(2)
    root = next(it)
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
    def opaque(fd, name):
        os.setxattr(b'/proc/self/fd/%d/' % fd + name, b'trusted.overlay.opaque', b'y', follow_symlinks=False)
    failed = None
    while True:
        op = next(it)
        if op == b'E':
            break
        f = take(it, SIZES.get(op, 0))
        if failed or op not in SIZES:
            failed = failed or 'unknown op'
            continue
        rel = f[0]
        try:
            fd, name = parent(rel)
            if op == b'S':
                kind, major, minor, mode, uid, gid, ns = f[1:]
                t = {b'p': stat.S_IFIFO, b'c': stat.S_IFCHR, b'b': stat.S_IFBLK}[kind]
                os.mknod(name, t | (int(mode) & 0o777), os.makedev(int(major), int(minor)), dir_fd=fd)
                if int(uid) >= 0:
                    os.chown(name, int(uid), int(gid), dir_fd=fd, follow_symlinks=False)
                os.chmod(name, int(mode) & 0o7777, dir_fd=fd)
                os.utime(name, ns=(int(ns), int(ns)), dir_fd=fd, follow_symlinks=False)
            elif op == b'X':
                os.setxattr(b'/proc/self/fd/%d/' % fd + name, f[1], bytes.fromhex(f[2].decode()), follow_symlinks=False)
            elif op == b'C':
                for n in os.listxattr(f[1], follow_symlinks=False):
                    if n.startswith('user.') or n == 'security.capability':
                        v = os.getxattr(f[1], n, follow_symlinks=False)
                        os.setxattr(b'/proc/self/fd/%d/' % fd + name, n, v, follow_symlinks=False)
            elif op == b'L':
                tfd, tname = parent(f[1])
                os.link(tname, name, src_dir_fd=tfd, dst_dir_fd=fd, follow_symlinks=False)
            elif op == b'W':
                try:
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    os.mknod(name, stat.S_IFCHR | 0o644, 0, dir_fd=fd)
                else:
                    if stat.S_ISDIR(st.st_mode):
                        opaque(fd, name)
            else:
                opaque(fd, name)
        except OSError as e:
            failed = '%s: %s' % (os.fsdecode(rel), e.strerror or e)
    for fd in cache.values():
        os.close(fd)
    os.write(1, (('err ' + failed.replace('\n', ' ')) if failed else 'ok').encode('utf-8', 'replace') + b'\n')
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
    case 'copyxattrs':
      return [str('C'), op.rel, op.from];
    case 'whiteout':
      return [str('W'), op.rel];
    case 'opaque':
      return [str('O'), op.rel];
    case 'link':
      return [str('L'), op.rel, op.target];
  }
}

function request(root: Buffer, ops: HelperOp[]): Buffer {
  const parts: Buffer[] = [str('R'), NUL, root, NUL];
  for (const op of ops) for (const field of encode(op)) parts.push(field, NUL);
  parts.push(str('E'), NUL);
  return Buffer.concat(parts);
}

/** Python in isolated mode without site: nothing from the environment changes what it runs. */
const PYTHON_ARGS = ['-I', '-S', '-c', SCRIPT];

function failed(said: string): BerthError {
  return new BerthError('ERR_UNPACK_FAILED', 'internal', `making device nodes, whiteouts or xattrs: ${said}`);
}

/** Runs a batch of operations under a root (`root` is the layer directory). */
export type HelperRun = (root: Buffer, ops: HelperOp[]) => void | Promise<void>;

/** One batch in a helper process of its own, synchronously (a hardlink that needs a device now). */
export const runHelper: HelperRun = (root, ops) => {
  if (ops.length === 0) return;
  const r = spawnSync('python3', PYTHON_ARGS, {
    input: request(root, ops),
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 1 << 20,
  });
  const reply = r.stdout?.toString().trim() ?? '';
  if (r.status !== 0 || reply !== 'ok') {
    throw failed(
      reply.replace(/^err /, '') ||
        r.stderr?.toString().trim() ||
        r.error?.message ||
        `python3 exited with ${r.status}`,
    );
  }
};

/**
 * One helper process for many batches (a worker thread's whole life: every layer it applies), so
 * an unpack starts python once, not once per layer. Batches are answered in order, one line each.
 */
/** Whether the helper keeps this thread's event loop alive (only while an answer is awaited). */
function hold(c: ChildProcessWithoutNullStreams, on: boolean): void {
  for (const h of [c, c.stdin, c.stdout, c.stderr] as Array<{ ref?: () => void; unref?: () => void }>) {
    if (on) h.ref?.();
    else h.unref?.();
  }
}

export function createHelperProcess(): { run: HelperRun; close(): void } {
  let child: ChildProcessWithoutNullStreams | undefined;
  const waiting: Array<{ resolve(): void; reject(err: Error): void }> = [];
  const start = () => {
    const c = spawn('python3', PYTHON_ARGS, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.setEncoding('utf8');
    c.stdout.on('data', (d: string) => {
      out += d;
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const w = waiting.shift();
        if (waiting.length === 0) hold(c, false);
        if (line === 'ok') w?.resolve();
        else w?.reject(failed(line.replace(/^err /, '')));
      }
    });
    c.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    const die = (why: string) => {
      if (child === c) child = undefined;
      for (const w of waiting.splice(0)) w.reject(failed(err.trim() || why));
    };
    c.on('error', (e) => die(e.message));
    c.on('exit', (code) => die(`python3 exited with ${code}`));
    c.stdin.on('error', () => undefined); // reported by 'exit'
    hold(c, false);
    return c;
  };
  return {
    run(root, ops) {
      if (ops.length === 0) return;
      child ??= start();
      const c = child;
      hold(c, true); // an answer is awaited: keep the process alive for it
      return new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject });
        c.stdin.write(request(root, ops));
      });
    },
    close() {
      child?.stdin.end();
      child = undefined;
    },
  };
}
