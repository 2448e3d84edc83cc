// Other downloads of a blob: a process (this one included) whose `.active` file for the digest is in
// ingest/ (ingest.ts names it with its owner token). A pull that finds a live one waits for that
// blob to land rather than fetch it a second time over the same link (pull/shared-ingest.ts); the
// file of one that died (kill -9, while another waited) is parked for the next writer to resume.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import { isOwnerAlive } from '../lib/process.js';
import type { Digest } from '../oci/digest.js';
import { parkPartial } from './ingest.js';
import { parseIngestName, partialPathIn, type StorePaths } from './paths.js';

/** The file a live writer of `digest` is filling, with the bytes it holds so far; undefined: none. */
export async function liveWriterOf(
  paths: StorePaths,
  digest: Digest,
): Promise<{ path: string; held: number } | undefined> {
  let names: string[];
  try {
    names = await readdir(paths.ingest);
  } catch {
    return undefined;
  }
  for (const name of names) {
    const n = parseIngestName(name);
    if (n?.kind !== 'active' || n.digest !== digest || !n.owner || !isOwnerAlive(n.owner)) continue;
    const path = join(paths.ingest, name);
    const held = await stat(path).then(
      (s) => s.size,
      () => undefined, // committed or parked meanwhile
    );
    if (held !== undefined) return { path, held };
  }
  return undefined;
}

/** Parks the files of `digest`'s dead writers as its partial (the longest one kept). */
export async function parkDeadWriters(paths: StorePaths, digest: Digest): Promise<void> {
  const names = await readdir(paths.ingest).catch(() => [] as string[]);
  for (const name of names) {
    const n = parseIngestName(name);
    if (n?.kind !== 'active' || n.digest !== digest || !n.owner || isOwnerAlive(n.owner)) continue;
    await parkPartial(join(paths.ingest, name), partialPathIn(paths, digest)).catch((err: unknown) => {
      if (errnoCode(err) !== 'ENOENT') throw err; // another writer parked or claimed it first
    });
  }
}
