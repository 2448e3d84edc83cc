// The content store's bytes for /metrics without a walk per scrape: a blob is only ever added or
// removed (written aside, renamed into `blobs/<algorithm>/`; removed by a prune or GC, by any berth
// process), and each of those changes the directory it is in. So the directories' identities (device,
// inode, size, mtime and ctime, as file-cache.ts keeps them) vouch for the last walk's total; a
// directory changed within one clock tick of that walk (racy) or a walk older than `ttlMs` (a blob
// changed in place behind berth) is walked again.
import { type Dirent, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type FileIdentity, isStillValid } from '../lib/file-cache.js';

export const STORE_BYTES_TTL_MS = 5 * 60_000;

interface Walked {
  stamp: Map<string, FileIdentity>;
  readAt: number;
  bytes: number;
}

/** The identity of `dir` and of each directory directly in it (symlinks are not followed). */
function stampOf(dir: string): Map<string, FileIdentity> {
  const stamp = new Map<string, FileIdentity>();
  const add = (path: string) => {
    const st = statSync(path, { bigint: true, throwIfNoEntry: false });
    if (st?.isDirectory())
      stamp.set(path, { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs });
  };
  add(dir);
  if (!stamp.has(dir)) return stamp;
  let entries: Dirent[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    // gone or unreadable: the walk finds nothing there either
  }
  for (const e of entries) if (e.isDirectory()) add(join(dir, e.name));
  return stamp;
}

function unchanged(last: Walked, now: Map<string, FileIdentity>): boolean {
  if (last.stamp.size !== now.size) return false;
  for (const [path, id] of now) {
    const was = last.stamp.get(path);
    if (!was || !isStillValid({ id: was, readAt: last.readAt }, id)) return false;
  }
  return true;
}

/** `bytes()`: what `walk(dir)` gives, walked again only when the directories say the store changed. */
export function createStoreBytes(o: {
  dir: string;
  now: () => number;
  walk: (dir: string) => Promise<number>;
  ttlMs?: number;
}): { bytes(): Promise<number> } {
  let last: Walked | undefined;
  return {
    async bytes() {
      const readAt = o.now();
      const stamp = stampOf(o.dir); // before the walk: a change during it shows in the next stamp
      if (last && readAt - last.readAt < (o.ttlMs ?? STORE_BYTES_TTL_MS) && unchanged(last, stamp))
        return last.bytes;
      const bytes = await o.walk(o.dir);
      last = { stamp, readAt, bytes };
      return bytes;
    },
  };
}
