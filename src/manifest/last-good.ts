// The last content of each manifest file that loaded cleanly, one JSON per manifests folder under
// `<root>/last-good/` (persistent, unlike --state): a file that breaks later (a bad edit, a
// half-synced checkout) keeps its workload applied, restarts and reboots included, until it is
// fixed or deleted. A deleted file's entry goes with it.
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDirs } from '../lib/make-dirs.js';

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
  return {
    async read(dir) {
      try {
        const saved = JSON.parse(await readFile(pathOf(dir), 'utf8')) as {
          dir: string;
          files: LastGoodFiles;
        };
        return saved.dir === dir ? saved.files : {};
      } catch {
        return {}; // none yet, or unreadable: nothing to fall back on
      }
    },
    async write(dir, files) {
      await makeDirs(root);
      const path = pathOf(dir);
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify({ dir, files }), { mode: 0o600 });
      await rename(tmp, path);
    },
  };
}
