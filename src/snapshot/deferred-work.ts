// Work a layer's writer leaves for the layer's end: device nodes, fifos and xattrs (made by the
// helper, fs-helper.ts), whiteouts and opaque markers (after everything else: a whiteout must see
// what the layer made at its name), and directory times (last: their children changed them).
//
// Invariant: an operation is done only if the directory it acts in (for a directory time, the
// directory itself) is still one the writer knows as a real directory inside the root. A later
// entry may have replaced a parent with a symlink; the writer then forgot that parent, and the
// operation is dropped, never done through the link. Work for a path a later entry takes over, or
// for anything under a path that was removed, is dropped too (the last entry for a path wins).
import { lutimesSync } from 'node:fs';
import { type HelperOp, type HelperRun, runHelper } from './fs-helper.js';
import { PathTree } from './path-tree.js';

export class DeferredWork {
  /** Device nodes and xattrs by host path (latin1 key), in order. */
  private readonly pending: PathTree<HelperOp[]>;
  private readonly marks: Array<{ key: string; op: HelperOp }> = [];
  private readonly dirTimes: PathTree<{ path: Buffer; mtime: Date }>;
  /**
   * Files copied up from a lower layer for a hardlink: their lower xattrs, by host path. They belong
   * to the inode, which the hardlink keeps: done before that name is removed (replaced, whited out).
   */
  private readonly copies: PathTree<HelperOp>;
  /**
   * Paths hardlinked while work waits for them (a node not made yet, xattrs): that work is the
   * linked inode's too, so it is done before such a path is taken over or removed.
   */
  private readonly linked: PathTree<true>;

  constructor(
    private readonly root: Buffer,
    private readonly isKnownDir: (key: string) => boolean,
  ) {
    const rootKey = root.toString('latin1');
    this.pending = new PathTree(rootKey);
    this.dirTimes = new PathTree(rootKey);
    this.copies = new PathTree(rootKey);
    this.linked = new PathTree(rootKey);
  }

  /** `path` relative to the root, for the helper. */
  private rel(path: Buffer): Buffer {
    return path.subarray(this.root.length + 1);
  }

  private parentIsKnown(key: string): boolean {
    return this.isKnownDir(key.slice(0, key.lastIndexOf('/')));
  }

  special(path: Buffer, op: Omit<Extract<HelperOp, { op: 'special' }>, 'rel' | 'op'>): void {
    this.add(path, { op: 'special', rel: this.rel(path), ...op });
  }

  xattr(path: Buffer, name: string, value: Buffer): void {
    this.add(path, { op: 'xattr', rel: this.rel(path), name, value });
  }

  copyXattrs(path: Buffer, from: Buffer): void {
    this.copies.set(path.toString('latin1'), { op: 'copyxattrs', rel: this.rel(path), from });
  }

  /** `path` is about to be replaced or removed: the xattrs of a copied-up file at or under it, now. */
  settle(path: Buffer): void {
    const key = path.toString('latin1');
    if (this.linked.size > 0 && this.linked.takeUnder(key).length > 0) this.flush();
    if (this.copies.size === 0) return;
    const now: HelperOp[] = [];
    for (const [k, op] of this.copies.takeUnder(key)) if (this.parentIsKnown(k)) now.push(op);
    if (now.length > 0) runHelper(this.root, now);
  }

  private add(path: Buffer, op: HelperOp): void {
    const key = path.toString('latin1');
    const list = this.pending.get(key);
    if (list) list.push(op);
    else this.pending.set(key, [op]);
  }

  /**
   * A hardlink at `path` to `target`, a device or fifo the helper makes first (Node has no mknod):
   * made in the same batch, at the layer's end, where a batch of its own per link cost a python3
   * process each (20,000 such links in a layer of 5 MB held its unpack for minutes).
   */
  link(path: Buffer, target: Buffer): void {
    this.add(path, { op: 'link', rel: this.rel(path), target: this.rel(target) });
    this.shareTarget(target);
  }

  /** `target` was hardlinked: what waits for it is done before it is taken over or removed. */
  shareTarget(target: Buffer): void {
    if (this.isPending(target)) this.linked.set(target.toString('latin1'), true);
  }

  whiteout(path: Buffer): void {
    this.marks.push({ key: path.toString('latin1'), op: { op: 'whiteout', rel: this.rel(path) } });
  }

  opaque(dir: Buffer): void {
    this.marks.push({ key: dir.toString('latin1'), op: { op: 'opaque', rel: this.rel(dir) } });
  }

  dirTime(path: Buffer, mtime: Date): void {
    // Set again, it moves last: the last entry for a directory wins.
    this.dirTimes.set(path.toString('latin1'), { path, mtime });
  }

  /** Whether a device node or xattr waits for `path`. */
  isPending(path: Buffer): boolean {
    return this.pending.size > 0 && this.pending.has(path.toString('latin1'));
  }

  /** A new entry takes `path`: what was deferred for the old one goes. */
  claim(path: Buffer): void {
    const key = path.toString('latin1');
    if (this.linked.size > 0 && this.linked.has(key)) this.flush(); // the hardlink keeps it
    if (this.pending.size > 0) this.pending.delete(key);
  }

  /** `key` was removed: drop the device nodes, xattrs and times deferred for it and under it. */
  forget(key: string): void {
    if (this.pending.size > 0) this.pending.takeUnder(key);
    if (this.dirTimes.size > 0) this.dirTimes.takeUnder(key);
  }

  private takePending(): HelperOp[] {
    const ops: HelperOp[] = [];
    for (const [key, list] of this.pending) if (this.parentIsKnown(key)) ops.push(...list);
    this.pending.clear();
    for (const [key, op] of this.copies) if (this.parentIsKnown(key)) ops.push(op);
    this.copies.clear();
    this.linked.clear();
    return ops;
  }

  /** Make the device nodes and xattrs deferred so far (a hardlink needs its target now). */
  flush(): void {
    runHelper(this.root, this.takePending());
  }

  /** Everything left, through `run` (a long-lived helper), directory times last. */
  async finish(run: HelperRun): Promise<void> {
    const ops = this.takePending();
    for (const m of this.marks) {
      const known = m.op.op === 'opaque' ? this.isKnownDir(m.key) : this.parentIsKnown(m.key);
      if (known) ops.push(m.op);
    }
    this.marks.length = 0;
    await run(this.root, ops);
    for (const [key, d] of [...this.dirTimes].reverse()) {
      if (this.isKnownDir(key)) lutimesSync(d.path, d.mtime, d.mtime);
    }
    this.dirTimes.clear();
  }
}
