// The file system side of applying a layer: every write confined to the root, with as few system
// calls per entry as the result allows (a layer is mostly small files, and each call costs).
//
// Invariants: paths are resolved inside the root (resolve.ts); the entry itself is never
// followed (O_EXCL creates, fd-based chown/chmod/utimes, lchown/lutimes for links). `knownDirs`
// holds host paths this writer created or checked as real directories, with real directories all
// the way up; anything removed or replaced is dropped from it (with what is under it), so a cached
// answer is never stale (only this writer changes the tree). Work deferred to the layer's end
// (device nodes, whiteouts, opaque markers, xattrs, directory times) is done only where the parent
// (or the directory itself, for times) is still in `knownDirs`: a later entry of the layer may
// have replaced a parent with a symlink, and a deferred operation must never follow it.
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
  readFileSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { BerthError, errnoCode } from '../lib/errors.js';
import { copyUp } from './copy-up.js';
import { DeferredWork } from './deferred-work.js';
import type { HelperRun } from './fs-helper.js';
import { PathTree } from './path-tree.js';
import { hostPath, resolveInRoot } from './resolve.js';

export interface Meta {
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  xattrs: Array<[string, Buffer]>;
}

/** Not empty, `.`, `..`, nor containing `/`: a name that stays in the directory it is made in. */
export function isSingleName(part: Buffer): boolean {
  if (part.length === 0 || part.includes(0x2f)) return false;
  return !(part[0] === 0x2e && (part.length === 1 || (part.length === 2 && part[1] === 0x2e)));
}

export function unsafe(what: string): BerthError {
  return new BerthError('ERR_LAYER_UNSAFE', 'integrity', what);
}

const SLASH = Buffer.from('/');

/** The process umask, read without changing it (process.umask() is not allowed in workers). */
function currentUmask(): number {
  try {
    const m = /^Umask:\s+([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number.parseInt(m[1] as string, 8) : 0o022;
  } catch {
    return 0o022;
  }
}

export class LayerWriter {
  private readonly knownDirs: PathTree<true>;
  /** Directories made only as parents of entries (no entry of their own): see implicitDirs(). */
  private readonly implicit: PathTree<true>;
  /** Every directory made as a parent, even if replaced later: see parentsMade(). */
  private readonly madeAsParents = new Set<string>();
  /**
   * Overlay form with the lower snapshots at hand: the target of a symlink they show at a path
   * this layer has nothing at (lower-view.ts), followed as the layer's own symlinks are.
   */
  lowerLink?: (parts: Buffer[]) => Buffer | undefined;
  private readonly umask = currentUmask();
  private readonly uid = process.getuid?.() ?? 0;
  private readonly gid = process.getgid?.() ?? 0;
  private readonly deferred: DeferredWork;

  constructor(
    readonly root: Buffer,
    private readonly preserveOwnership: boolean,
  ) {
    const rootKey = root.toString('latin1');
    this.knownDirs = new PathTree<true>(rootKey).set(rootKey, true);
    this.implicit = new PathTree<true>(rootKey);
    this.deferred = new DeferredWork(root, (key) => this.knownDirs.has(key));
  }

  private isKnownDir = (p: Buffer): boolean => this.knownDirs.has(p.toString('latin1'));

  private forget(path: Buffer): void {
    const key = path.toString('latin1');
    this.knownDirs.takeUnder(key);
    if (this.implicit.size > 0) this.implicit.takeUnder(key);
    this.deferred.forget(key);
  }

  /** A parent this layer has no entry for, made now (0755, the caller's): remembered as implicit. */
  private parentDir(p: Buffer): void {
    if (this.dirAt(p, 0o755)) this.madeParent(p);
  }

  private madeParent(p: Buffer): void {
    this.implicit.set(p.toString('latin1'), true);
    this.madeAsParents.add(p.toString('latin1'));
  }

  /**
   * The directories this layer made only as parents of its entries, relative to the root, parents
   * first. In overlay form such a directory hides the lower layer's own (its mode, owner and times:
   * /tmp's 1777), so the snapshotter gives it those of the lower directory (ensure-snapshots.ts),
   * as containerd's applier does.
   */
  implicitDirs(): Buffer[] {
    return this.relative(this.implicit.keys());
  }

  /**
   * Every directory this layer made as a parent, relative to the root, whatever became of it: in
   * overlay form without the lowers, where one of them stands on a lower symlink the layer is
   * unpacked again with them (lower-view.ts).
   */
  parentsMade(): Buffer[] {
    return this.relative(this.madeAsParents);
  }

  private relative(keys: Iterable<string>): Buffer[] {
    const start = this.root.length + 1;
    return [...keys].sort((a, b) => a.length - b.length).map((k) => Buffer.from(k, 'latin1').subarray(start));
  }

  /** Something is at `p`, or will be at the layer's end (a device or fifo the helper makes). */
  exists(p: Buffer): boolean {
    return this.lstat(p) !== undefined || this.deferred.isPending(p);
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
      this.knownDirs.set(p.toString('latin1'), true);
      return true;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    if (!lstatSync(p).isDirectory()) return 'blocked';
    this.knownDirs.set(p.toString('latin1'), true);
    return false;
  }

  private dirAt(p: Buffer, mode: number): boolean {
    const r = this.tryDir(p, mode);
    if (r === 'blocked') throw unsafe(`${p.toString()} is not a directory`);
    return r;
  }

  /** Resolve `parts` inside the root, creating missing parent directories; the last part is not followed. */
  place(parts: Buffer[]): Buffer {
    const last = parts[parts.length - 1] as Buffer;
    if (!isSingleName(last)) throw unsafe(`"${last.toString()}" is not a single name inside the layer`);
    // Fast path, most entries: the parent is a directory this writer already made or checked.
    const parent = parts.length === 1 ? this.root : hostPath(this.root, parts.slice(0, -1));
    if (this.isKnownDir(parent)) return Buffer.concat([parent, SLASH, last]);
    const { resolved } = resolveInRoot(this.root, parts, this.isKnownDir, this.lowerLink);
    for (let i = 1; i < resolved.length; i++) this.parentDir(hostPath(this.root, resolved.slice(0, i)));
    return hostPath(this.root, resolved);
  }

  /**
   * Resolve `parts` inside the root without creating anything: undefined when a parent is missing
   * or not a directory (nothing can be there).
   */
  locate(parts: Buffer[]): Buffer | undefined {
    const last = parts[parts.length - 1] as Buffer;
    if (!isSingleName(last)) throw unsafe(`"${last.toString()}" is not a single name inside the layer`);
    const { resolved } = resolveInRoot(this.root, parts, this.isKnownDir, this.lowerLink);
    const parent = hostPath(this.root, resolved.slice(0, -1));
    if (!this.isKnownDir(parent)) {
      const st = this.lstat(parent);
      if (!st?.isDirectory()) return undefined;
    }
    return hostPath(this.root, resolved);
  }

  /**
   * A directory inside the root (the root itself for no parts), created if missing; whatever else
   * is there (a file, a symlink: never followed) is replaced, as a directory entry would.
   */
  ensureDir(parts: Buffer[]): Buffer {
    if (parts.length === 0) return this.root;
    const p = this.place(parts);
    const made = this.tryDir(p, 0o755);
    if (made === 'blocked') {
      this.remove(p);
      this.parentDir(p);
    } else if (made) this.madeParent(p);
    return p;
  }

  isDir(p: Buffer): boolean {
    return this.isKnownDir(p) || this.lstat(p)?.isDirectory() === true;
  }

  /** Remove whatever is at `path` (a directory too, with its contents). */
  remove(path: Buffer): void {
    this.deferred.settle(path); // a copied-up file's xattrs stay with the hardlink that keeps its inode
    rmSync(path, { recursive: true, force: true });
    this.forget(path);
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
    this.deferred.claim(path);
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

  /** All of `chunk` at `position` of the file (its current offset when none is given). */
  static writeAll(fd: number, chunk: Buffer, position?: number): void {
    let off = 0;
    while (off < chunk.length)
      off += writeSync(fd, chunk, off, chunk.length - off, position === undefined ? null : position + off);
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
    this.deferred.claim(path);
    if (this.implicit.size > 0) this.implicit.delete(path.toString('latin1')); // an entry of its own
    let created = this.tryDir(path, meta.mode & 0o777);
    if (created === 'blocked') {
      this.remove(path); // a directory entry replaces a file of the same name
      created = this.dirAt(path, meta.mode & 0o777);
    }
    if (this.needsChown(meta)) lchownSync(path, meta.uid, meta.gid);
    if (!created || this.needsChown(meta) || this.needsChmod(meta.mode)) chmodSync(path, meta.mode & 0o7777);
    this.xattrs(path, meta);
    this.deferred.dirTime(path, meta.mtime);
  }

  symlink(path: Buffer, target: Buffer, meta: Meta): void {
    this.deferred.claim(path);
    this.exclusive(path, () => symlinkSync(target, path)); // a replaced directory is forgotten by remove()
    if (this.needsChown(meta)) lchownSync(path, meta.uid, meta.gid);
    lutimesSync(path, meta.mtime, meta.mtime);
    // No xattrs: the kernel refuses user.* on symlinks, and capabilities mean nothing there.
  }

  /**
   * A hardlink to `target` inside the root. `copyFrom`, when given, is where to copy a missing
   * target from first (a lower layer's file, in overlay form).
   */
  hardlink(path: Buffer, target: Buffer, linkname: string, copyFrom?: () => Buffer | undefined): void {
    if (!path.equals(target)) this.deferred.claim(path); // a link to itself keeps what waits for it
    let st = this.lstat(target);
    if (!st && this.deferred.isPending(target)) {
      this.deferLink(path, target); // a device or fifo of this layer, made at its end
      return;
    }
    this.deferred.shareTarget(target); // its xattrs, still to be set, are the link's too
    if (!st && copyFrom) {
      const source = copyFrom();
      const from = source && lstatSync(source);
      if (source && from?.isFIFO()) {
        // A lower FIFO: made here as the layer's own (by the helper, at the layer's end), then linked.
        this.special(target, 'p', 0, 0, {
          mode: from.mode,
          uid: from.uid,
          gid: from.gid,
          mtime: from.mtime,
          xattrs: [],
        });
        this.deferLink(path, target);
        return;
      } else if (source) {
        copyUp(source, target, this.preserveOwnership);
        st = this.lstat(target);
        // Its capability and user.* xattrs too, as overlayfs copies a file up (Node cannot read them).
        if (st?.isFile()) this.deferred.copyXattrs(target, source);
      }
    }
    if (!st) throw unsafe(`a hardlink to ${linkname}, which does not exist`);
    if (st.isDirectory()) throw unsafe(`a hardlink to ${linkname}, a directory`);
    // A link to itself names the file it already is (as GNU tar takes it): replacing the name
    // first would leave it a link to nothing.
    if (path.equals(target)) return;
    this.exclusive(path, () => linkSync(target, path));
  }

  /** A hardlink to a node the helper has still to make: the helper links it after making it. */
  private deferLink(path: Buffer, target: Buffer): void {
    if (path.equals(target)) return; // the node it already is
    if (this.lstat(path)) this.remove(path);
    this.deferred.link(path, target);
  }

  /** Fifos and device nodes (Node has no mknod): made by the helper at the layer's end. */
  special(path: Buffer, kind: 'p' | 'c' | 'b', major: number, minor: number, meta: Meta): void {
    this.deferred.claim(path);
    if (this.lstat(path)) this.remove(path);
    const own = this.preserveOwnership;
    this.deferred.special(path, {
      kind,
      major,
      minor,
      mode: meta.mode & 0o7777,
      uid: own ? meta.uid : -1,
      gid: own ? meta.gid : -1,
      mtime: meta.mtime,
    });
    // The kernel takes user.* only on regular files and directories (xattr(7)): on a fifo or a
    // device it is skipped, as containerd skips it, rather than failing the layer.
    this.xattrs(path, { ...meta, xattrs: meta.xattrs.filter(([name]) => !name.startsWith('user.')) });
  }

  /**
   * An overlayfs whiteout (a 0/0 character device) for a lower layer's `path`, made at the layer's
   * end: whatever this layer puts there itself stays (a whiteout hides lower layers only), and a
   * directory this layer makes there becomes opaque (a whiteout and a directory cannot share a name).
   */
  whiteoutDevice(path: Buffer): void {
    this.deferred.whiteout(path);
  }

  markOpaque(dir: Buffer): void {
    this.deferred.opaque(dir);
  }

  private xattrs(path: Buffer, meta: Meta): void {
    for (const [name, value] of meta.xattrs) this.deferred.xattr(path, name, value);
  }

  /** Deferred work (see deferred-work.ts) through `run`, directory times last. */
  finish(run: HelperRun): Promise<void> {
    return this.deferred.finish(run);
  }
}
