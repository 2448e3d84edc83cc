// Small files read on every pass (container records, pods' pod.json, network attachments) parsed
// once per change: a long-lived process (the daemon) keeps what it parsed, keyed on the file's
// identity, and checks that identity with one stat per read instead of open, read, close and a parse.
//
// Invariants:
// - The identity is the device, inode, size, and mtime and ctime in nanoseconds: an atomic replace
//   (a new inode), a truncate, a write, a chmod or a utimes all change it.
// - A file changed in place twice within one tick of the file system's clock can keep every one of
//   those (same size, same times). So an entry whose ctime is not clearly older than the moment it
//   was read ("racy", as git calls it) is never served: it is read again until it has aged, and a
//   later change then shows in ctime.
// - A missing file is never cached (nothing to serve stale); an error is the caller's.
// - Values are shared between reads: callers must not mutate them.
import { readFileSync, statSync } from 'node:fs';

/** Older than this (ms) before a stat can vouch for the content: above any Linux file system's tick. */
export const RACY_MS = 2000;

export interface FileIdentity {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

interface Entry {
  id: FileIdentity;
  /** Wall clock (ms) when the stat that vouches for `value` was taken. */
  readAt: number;
  value: unknown;
  /** The sweep generation of its last read (entries no pass reads any more are dropped). */
  gen: number;
}

/** Whether two stats name the same file in the same state (every field of the identity equal). */
export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return (
    a.ino === b.ino &&
    a.dev === b.dev &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs
  );
}

/** The identity of the file `path` names now (links followed); undefined when there is none. */
export function identityOf(path: string): FileIdentity | undefined {
  try {
    const st = statSync(path, { bigint: true });
    return { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
  } catch {
    return undefined;
  }
}

/**
 * Whether what was read at `readAt` from a file then of identity `cached` is still its content now
 * that a stat says `now`: the identity has not changed, and the change time was already a safe margin
 * before the read (else a second write in the same tick could have left the identity as it was).
 */
export function isStillValid(cached: { id: FileIdentity; readAt: number }, now: FileIdentity): boolean {
  if (!sameIdentity(cached.id, now)) return false;
  const changedMs = Number(now.ctimeNs / 1_000_000n);
  const modifiedMs = Number(now.mtimeNs / 1_000_000n);
  return Math.max(changedMs, modifiedMs) < cached.readAt - RACY_MS;
}

export interface FileCache {
  /**
   * The file's content as `parse` makes it (undefined when the file does not exist). `parse` must
   * be the same for one path: the cache holds one value per path.
   */
  read<T>(path: string, parse: (text: string) => T): T | undefined;
  /** Forget what no read has asked for since the last sweep (removed containers, pods). */
  sweep(): void;
  readonly size: number;
}

export function createFileCache(o: { now?: () => number } = {}): FileCache {
  const now = o.now ?? Date.now;
  const entries = new Map<string, Entry>();
  let gen = 0;
  return {
    read<T>(path: string, parse: (text: string) => T): T | undefined {
      const readAt = now();
      const st = statSync(path, { bigint: true, throwIfNoEntry: false });
      // A FIFO (socket, device) planted there is never opened: it would block the pass forever.
      // It fails as an unreadable file does (a directory still fails in readFileSync, as before).
      if (st && !st.isFile() && !st.isDirectory())
        throw Object.assign(new Error(`${path}: not a regular file`), { code: 'EINVAL' });
      if (!st) {
        entries.delete(path);
        return undefined;
      }
      const id: FileIdentity = {
        dev: st.dev,
        ino: st.ino,
        size: st.size,
        mtimeNs: st.mtimeNs,
        ctimeNs: st.ctimeNs,
      };
      const hit = entries.get(path);
      if (hit && isStillValid(hit, id)) {
        hit.gen = gen;
        return hit.value as T;
      }
      // Read after the stat: a change between the two shows in the next stat, never the reverse.
      const value = parse(readFileSync(path, 'utf8'));
      entries.set(path, { id, readAt, value, gen });
      return value;
    },
    sweep() {
      for (const [path, e] of entries) if (e.gen < gen) entries.delete(path);
      gen++;
    },
    get size() {
      return entries.size;
    },
  };
}
