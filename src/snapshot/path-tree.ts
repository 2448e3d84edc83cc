// Host paths under one root, each with a value, kept so that everything at or under a path can be
// taken out in time proportional to what is there, not to all that is kept. A layer's writer
// forgets whatever was under a path it removes (its known directories, deferred work, copies): a
// scan of every key for each removal made a layer of many directories and many replaced entries
// quadratic (12 s for 8,000 of each in 56 KB of gzip; minutes for a few times that). Pure.
//
// Invariant: every path holding a value, or with a path holding one below it, is linked to the
// root through `children` by all the paths between (made as needed). A path stays linked when its
// value alone is deleted; takeUnder unlinks it with all below it. Iteration is in insertion order.

export class PathTree<V> {
  private readonly values = new Map<string, V>();
  /** Each path's directly lower paths (those with a value and those on the way to one). */
  private readonly children = new Map<string, Set<string>>();

  /** `root`: the path every key is at or under; keys are joined with '/' (latin1 host paths). */
  constructor(private readonly root: string) {}

  get size(): number {
    return this.values.size;
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  /** Set `key`'s value; a key set again moves to the end of the iteration order. */
  set(key: string, value: V): this {
    this.values.delete(key);
    this.values.set(key, value);
    let at = key;
    while (at.length > this.root.length) {
      const parent = at.slice(0, at.lastIndexOf('/'));
      const kids = this.children.get(parent);
      if (kids) {
        kids.add(at);
        break; // the parent is linked already
      }
      this.children.set(parent, new Set([at]));
      at = parent;
    }
    return this;
  }

  /** Delete `key`'s value only (what is under it stays). */
  delete(key: string): boolean {
    return this.values.delete(key);
  }

  /** Take out `key` and every path under it: their entries, parents before children. */
  takeUnder(key: string): Array<[string, V]> {
    const out: Array<[string, V]> = [];
    const parent = key.slice(0, key.lastIndexOf('/'));
    if (key.length > this.root.length) this.children.get(parent)?.delete(key);
    const todo = [key];
    for (let at = todo.pop(); at !== undefined; at = todo.pop()) {
      if (this.values.has(at)) {
        out.push([at, this.values.get(at) as V]);
        this.values.delete(at);
      }
      const kids = this.children.get(at);
      if (kids) {
        this.children.delete(at);
        for (const k of kids) todo.push(k);
      }
    }
    return out;
  }

  clear(): void {
    this.values.clear();
    this.children.clear();
  }

  keys(): IterableIterator<string> {
    return this.values.keys();
  }

  entries(): IterableIterator<[string, V]> {
    return this.values.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.values.entries();
  }
}
