// The file system side of applying a layer: every write confined to the root, with as few system
// calls per entry as the result allows (a layer is mostly small files, and each call costs).
//
// Invariants: paths are resolved inside the root (resolve.ts); the entry itself is never
// followed (O_EXCL creates, fd-based chown/chmod/utimes, lchown/lutimes for links). `knownDirs`
// holds host paths this writer created or checked as real directories; anything removed or
// replaced is dropped from it, so a cached answer is never stale (only this writer changes the tree).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { BerthError, errnoCode } from '../lib/errors.js';
import { copyUp } from './copy-up.js';
import { hostPath, resolveInRoot } from './resolve.js';

export interface Meta {
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  xattrs: Array<[string, Buffer]>;
}

export function unsafe(what: string): BerthError {
  return new BerthError('ERR_LAYER_UNSAFE', 'integrity', what);
}

const SLASH = Buffer.from('/');
/** Paths per helper process (well under the kernel's argument size limit). */
const BATCH = 500;

/** The process umask, read without changing it (process.umask() is not allowed in workers). */
function currentUmask(): number {
  try {
    const m = /^Umask:\s+([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number.parseInt(m[1] as string, 8) : 0o022;
  } catch {
    return 0o022;
  }
}

function run(cmd: string, args: string[], what: string): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) {
    throw new BerthError(
      'ERR_UNPACK_FAILED',
      'internal',
      `${what}: ${cmd} failed: ${r.stderr?.toString().trim() || r.error?.message}`,
    );
  }
}

export class LayerWriter {
  private readonly knownDirs = new Set<string>();
  private readonly dirTimes: Array<{ path: Buffer; mtime: Date }> = [];
  private readonly umask = currentUmask();
  private readonly uid = process.getuid?.() ?? 0;
  private readonly gid = process.getgid?.() ?? 0;
  private readonly whiteouts: string[] = [];
  private readonly opaqueDirs: string[] = [];

  constructor(
    readonly root: Buffer,
    private readonly preserveOwnership: boolean,
  ) {
    this.knownDirs.add(root.toString('latin1'));
  }

  private isKnownDir = (p: Buffer): boolean => this.knownDirs.has(p.toString('latin1'));

  private forget(path: Buffer): void {
    const key = path.toString('latin1');
    this.knownDirs.delete(key);
    const prefix = `${key}/`;
    for (const k of this.knownDirs) if (k.startsWith(prefix)) this.knownDirs.delete(k);
  }

  exists(p: Buffer): boolean {
    return this.lstat(p) !== undefined;
  }

  private lstat(p: Buffer) {
    try {
      return lstatSync(p);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /**
   * Make `p` a real directory (creating it with `mode` if missing): true if created, false if it
   * was there, 'blocked' when something else is in the way.
   */
  private tryDir(p: Buffer, mode: number): boolean | 'blocked' {
    if (this.isKnownDir(p)) return false;
    try {
      mkdirSync(p, mode);
      this.knownDirs.add(p.toString('latin1'));
      return true;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    if (!lstatSync(p).isDirectory()) return 'blocked';
    this.knownDirs.add(p.toString('latin1'));
    return false;
  }

  private dirAt(p: Buffer, mode: number): boolean {
    const r = this.tryDir(p, mode);
    if (r === 'blocked') throw unsafe(`${p.toString()} is not a directory`);
    return r;
  }

  /** Resolve `parts` inside the root, creating missing parent directories; the last part is not followed. */
  place(parts: Buffer[]): Buffer {
    // Fast path, most entries: the parent is a directory this writer already made or checked.
    const last = parts[parts.length - 1] as Buffer;
    const parent = parts.length === 1 ? this.root : hostPath(this.root, parts.slice(0, -1));
    if (this.isKnownDir(parent)) return Buffer.concat([parent, SLASH, last]);
    const { resolved } = resolveInRoot(this.root, parts, this.isKnownDir);
    for (let i = 1; i < resolved.length; i++) this.dirAt(hostPath(this.root, resolved.slice(0, i)), 0o755);
    return hostPath(this.root, resolved);
  }

  /** A directory inside the root (the root itself for no parts), created if missing. */
  ensureDir(parts: Buffer[]): Buffer {
    if (parts.length === 0) return this.root;
    const p = this.place(parts);
    this.dirAt(p, 0o755);
    return p;
  }

  /** Remove whatever is at `path` (a directory too, with its contents). */
  remove(path: Buffer): void {
    rmSync(path, { recursive: true, force: true });
    this.forget(path);
  }

  /** Remove the children of `dir` that `keep` does not name (an opaque directory in native form). */
  removeChildren(dir: Buffer, keep: (p: Buffer) => boolean): void {
    for (const child of readdirSync(dir, { encoding: 'buffer' })) {
      const p = Buffer.concat([dir, SLASH, child]);
      if (!keep(p)) this.remove(p);
    }
  }

  /** Create with O_EXCL; if something is in the way, remove it and try once more. */
  private exclusive<T>(path: Buffer, create: () => T): T {
    try {
      return create();
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      this.remove(path);
      return create();
    }
  }

  /** A new regular file (whatever was at `path` is replaced); write to the fd, then closeFile. */
  openFile(path: Buffer, meta: Meta): number {
    return this.exclusive(path, () => openSync(path, 'wx', meta.mode & 0o777));
  }

  closeFile(fd: number, path: Buffer, meta: Meta): void {
    try {
      this.ownAndMode(fd, meta);
      futimesSync(fd, meta.mtime, meta.mtime);
    } finally {
      closeSync(fd);
    }
    this.xattrs(path, meta);
  }

  abandonFile(fd: number): void {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }

  static writeAll(fd: number, chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) off += writeSync(fd, chunk, off);
  }

  private needsChmod(mode: number): boolean {
    return (mode & 0o7777) !== (mode & 0o777 & ~this.umask);
  }

  private needsChown(meta: Meta): boolean {
    return this.preserveOwnership && (meta.uid !== this.uid || meta.gid !== this.gid);
  }

  private ownAndMode(fd: number, meta: Meta): void {
    if (this.needsChown(meta)) fchownSync(fd, meta.uid, meta.gid); // before chmod: chown clears setuid
    if (this.needsChown(meta) || this.needsChmod(meta.mode)) fchmodSync(fd, meta.mode & 0o7777);
  }

  directory(path: Buffer, meta: Meta): void {
    let created = this.tryDir(path, meta.mode & 0o777);
    if (created === 'blocked') {
      this.remove(path); // a directory entry replaces a file of the same name
      created = this.dirAt(path, meta.mode & 0o777);
    }
    if (this.needsChown(meta)) lchownSync(path, meta.uid, meta.gid);
    if (!created || this.needsChown(meta) || this.needsChmod(meta.mode)) chmodSync(path, meta.mode & 0o7777);
    this.xattrs(path, meta);
    this.dirTimes.push({ path, mtime: meta.mtime });
  }

  symlink(path: Buffer, target: Buffer, meta: Meta): void {
    this.exclusive(path, () => symlinkSync(target, path)); // a replaced directory is forgotten by remove()
    if (this.needsChown(meta)) lchownSync(path, meta.uid, meta.gid);
    lutimesSync(path, meta.mtime, meta.mtime);
    this.xattrs(path, meta);
  }

  /**
   * A hardlink to `target` inside the root. `copyFrom`, when given, is where to copy a missing
   * target from first (a lower layer's file, in overlay form).
   */
  hardlink(
    path: Buffer,
    target: Buffer,
    name: string,
    linkname: string,
    copyFrom?: () => Buffer | undefined,
  ): void {
    let st = this.lstat(target);
    if (!st && copyFrom) {
      const source = copyFrom();
      if (source) {
        copyUp(source, target, this.preserveOwnership);
        st = this.lstat(target);
      }
    }
    if (!st) throw unsafe(`hardlink ${name} points at ${linkname}, which does not exist`);
    if (st.isDirectory()) throw unsafe(`hardlink ${name} points at a directory`);
    this.exclusive(path, () => linkSync(target, path));
  }

  /** Fifos and device nodes (Node has no mknod). */
  special(path: Buffer, kind: 'p' | 'c' | 'b', major: number, minor: number, meta: Meta): void {
    if (this.lstat(path)) this.remove(path);
    const args =
      kind === 'p' ? [path.toString(), 'p'] : [path.toString(), kind, String(major), String(minor)];
    run('mknod', args, path.toString());
    if (this.needsChown(meta)) lchownSync(path, meta.uid, meta.gid);
    chmodSync(path, meta.mode & 0o7777);
    lutimesSync(path, meta.mtime, meta.mtime);
  }

  /**
   * An overlayfs whiteout: a character device 0/0. Node has no mknod, and one process per whiteout
   * cost 0.5 s on a layer with 135 of them, so they are made together at finish().
   */
  whiteoutDevice(path: Buffer): void {
    if (this.lstat(path)) this.remove(path);
    this.whiteouts.push(path.toString());
  }

  /** Marked together at finish(), like whiteouts. */
  markOpaque(dir: Buffer): void {
    this.opaqueDirs.push(dir.toString());
  }

  private xattrs(path: Buffer, meta: Meta): void {
    for (const [name, value] of meta.xattrs) {
      run(
        'setfattr',
        ['-h', '-n', name, '-v', `0x${value.toString('hex')}`, path.toString()],
        path.toString(),
      );
    }
  }

  /** Pending whiteouts and opaque markers, then directory times last (their children changed them). */
  finish(): void {
    for (let i = 0; i < this.whiteouts.length; i += BATCH) {
      const batch = this.whiteouts.slice(i, i + BATCH);
      run(
        'sh',
        ['-c', 'for p do mknod "$p" c 0 0 || exit 1; done', 'sh', ...batch],
        `whiteouts under ${this.root}`,
      );
    }
    for (let i = 0; i < this.opaqueDirs.length; i += BATCH) {
      const batch = this.opaqueDirs.slice(i, i + BATCH);
      run(
        'setfattr',
        ['-n', 'trusted.overlay.opaque', '-v', 'y', ...batch],
        `opaque directories under ${this.root}`,
      );
    }
    for (const d of this.dirTimes.reverse()) lutimesSync(d.path, d.mtime, d.mtime);
  }
}
