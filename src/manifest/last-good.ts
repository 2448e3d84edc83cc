// The last content of each manifest file that loaded cleanly, one JSON per manifests folder under
// `<root>/last-good/` (persistent, unlike --state): a file that breaks later (a bad edit, a
// half-synced checkout) keeps its workload applied, restarts and reboots included, until it is
// fixed or deleted. A deleted file's entry goes with it.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/write-atomic.js';

/** File name (in the folder) → its last clean text. */
export type LastGoodFiles = Record<string, string>;

export interface LastGood {
  read(dir: string): Promise<LastGoodFiles>;
  /** Replace the folder's entry (the caller writes only when it changed). */
  write(dir: string, files: LastGoodFiles): Promise<void>;
}

export function lastGoodStore(root: string): LastGood {
  const pathOf = (dir: string) =>
    join(root, `${createHash('sha256').update(dir).digest('hex').slice(0, 32)}.json`);
  // What was last read or written, per folder: a daemon's passes do not read the file back (only
  // one reconcile runs at a time on a host: the reconcile lock).
  const known = new Map<string, LastGoodFiles>();
  return {
    async read(dir) {
      const memo = known.get(dir);
      if (memo) return memo;
      let files: LastGoodFiles = {};
      try {
        const saved = JSON.parse(await readFile(pathOf(dir), 'utf8')) as {
          dir: string;
          files: LastGoodFiles;
        };
        if (saved.dir === dir) files = saved.files;
      } catch {
        // none yet, or unreadable: nothing to fall back on
      }
      known.set(dir, files);
      return files;
    },
    async write(dir, files) {
      await writeFileAtomic(pathOf(dir), JSON.stringify({ dir, files }), 0o600);
      known.set(dir, files);
    },
  };
}
