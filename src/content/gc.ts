// Garbage collection: mark from every index.json entry (manifest → config + layers, index →
// present children, plus the repo-digest blob), sweep the rest. Runs under the store lock and only
// when no live process holds a lease, so content a pull has fetched but not named yet is safe.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BootStamp } from '../lib/boot-clock.js';
import { BerthError, errnoCode } from '../lib/errors.js';
import { isOwnerAlive, OWNER_PATTERN } from '../lib/process.js';
import type { Descriptor } from '../oci/descriptor.js';
import { type Digest, isDigest } from '../oci/digest.js';
import { MAX_MANIFEST_BYTES, parseManifest } from '../oci/image.js';
import { bodyMediaType, isIndexMediaType, isManifestMediaType } from '../oci/media-types.js';
import { REPO_DIGEST_ANNOTATION, readIndexFile } from './index-file.js';
import { parkPartial } from './ingest.js';
import { readLiveLeases } from './lease.js';
import { judgePartial, PARTIAL_MAX_AGE_MS } from './partial-age.js';
import {
  partialOfStampName,
  readPartialStamp,
  removePartialStamp,
  writePartialStamp,
} from './partial-stamp.js';
import { blobPathIn, parseIngestName, partialPathIn, type StorePaths } from './paths.js';
import type { GcResult } from './types.js';

const INDEX_TMP = new RegExp(`^index\\.json\\.(${OWNER_PATTERN})\\.tmp$`);
/** An archive `image import` expanded (archive/open-archive.ts): `import-<pid>-<hex>.tar`. */
const IMPORT_TMP = /^import-(\d+)-[a-f0-9]{8}\.tar$/;

export async function markReachable(
  paths: StorePaths,
  readBlob: (d: Digest, max: number) => Promise<Buffer>,
  has: (d: Digest) => Promise<boolean>,
): Promise<Set<string>> {
  const index = await readIndexFile(paths);
  const reached = new Set<string>();
  const queue: Descriptor[] = [];
  for (const entry of index.manifests) {
    queue.push(entry);
    const repoDigest = entry.annotations?.[REPO_DIGEST_ANNOTATION];
    if (repoDigest && isDigest(repoDigest) && repoDigest !== entry.digest) {
      // The mediaType of a repo digest is not recorded; try both shapes when walking it.
      queue.push({ mediaType: '', digest: repoDigest, size: 0 });
    }
  }
  while (queue.length > 0) {
    const d = queue.pop() as Descriptor;
    if (reached.has(d.digest) || !(await has(d.digest))) continue;
    reached.add(d.digest);
    if (d.mediaType !== '' && !isIndexMediaType(d.mediaType) && !isManifestMediaType(d.mediaType)) continue;
    const bytes = await readBlob(d.digest, MAX_MANIFEST_BYTES);
    const mediaType = d.mediaType || bodyMediaType(bytes);
    if (!mediaType) continue;
    const parsed = parseManifest(bytes, mediaType, `${d.digest} (reached from index.json)`);
    if (parsed.kind === 'index') queue.push(...parsed.index.manifests);
    else queue.push(parsed.manifest.config, ...parsed.manifest.layers);
  }
  return reached;
}

export async function sweepBlobs(paths: StorePaths, keep: Set<string>): Promise<GcResult> {
  const result: GcResult = { removedBlobs: [], freedBytes: 0 };
  for (const alg of await readdirOrEmpty(paths.blobs)) {
    for (const hex of await readdirOrEmpty(join(paths.blobs, alg))) {
      const digest = `${alg}:${hex}`;
      if (!isDigest(digest) || keep.has(digest)) continue;
      const file = join(paths.blobs, alg, hex);
      const { size } = await stat(file);
      await rm(file, { force: true });
      result.removedBlobs.push(digest);
      result.freedBytes += size;
    }
  }
  result.removedBlobs.sort();
  return result;
}

/**
 * Tidy ingest/ after crashes: a dead writer's `.active` file is parked as `.partial` (the next pull
 * resumes it); temp files of dead processes (an import's expanded archive too), partials of blobs
 * already committed and partials older than a day (by the boot clock: content/partial-age.ts) are
 * removed, with their stamps. Safe while other processes work: live writers are never touched.
 */
export async function cleanIngest(
  paths: StorePaths,
  now: Date,
  boot: BootStamp,
  isAlive = isOwnerAlive,
): Promise<void> {
  for (const name of await readdirOrEmpty(paths.ingest)) {
    const file = join(paths.ingest, name);
    const stamped = partialOfStampName(name);
    if (stamped && !(await exists(join(paths.ingest, stamped))))
      await removePartialStamp(join(paths.ingest, stamped));
    const expanded = IMPORT_TMP.exec(name);
    if (expanded && !isAlive(expanded[1] as string)) await rm(file, { force: true });
    const parsed = parseIngestName(name);
    if (!parsed) continue;
    try {
      if (parsed.kind === 'partial') {
        await tidyPartial(paths, file, parsed.digest, now, boot);
      } else if (parsed.owner !== undefined && !isAlive(parsed.owner)) {
        if (parsed.kind === 'active' && !(await exists(blobPathIn(paths, parsed.digest)))) {
          await parkPartial(file, partialPathIn(paths, parsed.digest));
        } else {
          await rm(file, { force: true });
        }
      }
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err; // another process tidied it first
    }
  }
  await readLiveLeases(paths, isAlive); // deletes the leases of dead processes
  for (const name of await readdirOrEmpty(paths.content)) {
    const m = INDEX_TMP.exec(name);
    if (m && !isAlive(m[1] as string)) await rm(join(paths.content, name), { force: true });
  }
}

/** Remove a partial whose blob is committed or that has outlived its day (content/partial-age.ts). */
async function tidyPartial(paths: StorePaths, file: string, digest: Digest, now: Date, boot: BootStamp) {
  const committed = await exists(blobPathIn(paths, digest));
  const judged = committed
    ? { expired: true }
    : judgePartial({
        mtimeMs: (await stat(file)).mtimeMs,
        stamp: await readPartialStamp(file),
        now: now.getTime(),
        current: boot,
        maxAgeMs: PARTIAL_MAX_AGE_MS,
      });
  if (judged.expired) {
    await rm(file, { force: true });
    await removePartialStamp(file);
  } else if (judged.stamp) await writePartialStamp(file, judged.stamp);
}

export function storeBusy(root: string, pids: number[]): BerthError {
  return new BerthError(
    'ERR_STORE_BUSY',
    'unavailable',
    `store ${root} is in use by pulls in progress (pid ${pids.join(', ')})`,
    {
      hint: 'try again when they finish',
    },
  );
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}
