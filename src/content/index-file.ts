// index.json of the OCI layout: reading, the ImageRecord ↔ entry mapping (pure), and atomic
// replacement (temp file, fsync, rename, fsync dir). Callers hold the store lock to write.
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { BerthError, errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { type Descriptor, isObject, parseDescriptor, REF_NAME_ANNOTATION } from '../oci/descriptor.js';
import { isDigest } from '../oci/digest.js';
import { MediaType } from '../oci/media-types.js';
import { fsyncDir } from './fsync.js';
import type { StorePaths } from './paths.js';
import type { ImageRecord } from './types.js';

export const REPO_DIGEST_ANNOTATION = 'berth.dev/repo-digest';
export const PULLED_AT_ANNOTATION = 'berth.dev/pulled-at';
export const LAST_USED_ANNOTATION = 'berth.dev/last-used-at';
export const PREVIOUS_OF_ANNOTATION = 'berth.dev/previous-of';
export const REPLACED_AT_ANNOTATION = 'berth.dev/replaced-at';

export interface OciIndexFile {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

export function recordToEntry(r: ImageRecord): Descriptor {
  const { annotations: _, ...target } = r.target;
  const annotations: Record<string, string> = {
    [REF_NAME_ANNOTATION]: r.name,
    [REPO_DIGEST_ANNOTATION]: r.repoDigest,
    [PULLED_AT_ANNOTATION]: r.pulledAt,
  };
  if (r.lastUsedAt) annotations[LAST_USED_ANNOTATION] = r.lastUsedAt;
  if (r.previousOf) annotations[PREVIOUS_OF_ANNOTATION] = r.previousOf;
  if (r.replacedAt) annotations[REPLACED_AT_ANNOTATION] = r.replacedAt;
  return { ...target, annotations };
}

/** Entries without a berth name (written by other tools) are not images berth lists. */
export function entryToRecord(d: Descriptor): ImageRecord | undefined {
  const a = d.annotations ?? {};
  const name = a[REF_NAME_ANNOTATION];
  if (!name) return undefined;
  const { annotations: _, ...target } = d;
  const repoDigest = a[REPO_DIGEST_ANNOTATION];
  const record: ImageRecord = {
    name,
    target,
    repoDigest: repoDigest && isDigest(repoDigest) ? repoDigest : d.digest,
    pulledAt: a[PULLED_AT_ANNOTATION] ?? '',
  };
  if (a[LAST_USED_ANNOTATION]) record.lastUsedAt = a[LAST_USED_ANNOTATION];
  if (a[PREVIOUS_OF_ANNOTATION]) record.previousOf = a[PREVIOUS_OF_ANNOTATION];
  if (a[REPLACED_AT_ANNOTATION]) record.replacedAt = a[REPLACED_AT_ANNOTATION];
  return record;
}

export async function readIndexFile(paths: StorePaths): Promise<OciIndexFile> {
  let text: string;
  try {
    text = await readFile(paths.indexJson, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT')
      return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
    if (errnoCode(err) === 'ENOTDIR') {
      throw new BerthError('ERR_STORE_NOT_DIRECTORY', 'invalid', `store ${paths.root} is not a directory`, {
        cause: err,
        hint: 'point --root at a directory',
      });
    }
    throw err;
  }
  const corrupt = (why: string, cause?: unknown) =>
    new BerthError('ERR_STORE_CORRUPT', 'internal', `${paths.indexJson}: ${why}`, { cause });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw corrupt('malformed JSON', err);
  }
  if (!isObject(json) || !Array.isArray(json.manifests)) throw corrupt('no "manifests" array');
  const manifests = json.manifests.map((m, i) => parseDescriptor(m, `manifests[${i}] of ${paths.indexJson}`));
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
}

export async function writeIndexFile(paths: StorePaths, index: OciIndexFile, owner: string): Promise<void> {
  const tmp = `${paths.indexJson}.${owner}.tmp`;
  const h = await open(tmp, 'w');
  try {
    await h.writeFile(JSON.stringify(index, null, 2) + '\n');
    await h.sync();
  } catch (err) {
    await h.close();
    await rm(tmp, { force: true }); // a full file system leaves no half-written temp file behind
    throw err;
  }
  await h.close();
  try {
    await rename(tmp, paths.indexJson);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(paths.content);
}

/** Create the layout's skeleton; safe to race (every step tolerates another doing it first). */
export async function ensureLayout(paths: StorePaths): Promise<void> {
  await makeDirs(paths.blobs);
  await makeDirs(paths.leases);
  try {
    await writeFile(paths.ociLayout, '{"imageLayoutVersion":"1.0.0"}\n', { flag: 'wx' });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
}

/** `registry/repo:tag` → `registry/repo@digest`: the name a previous digest of a tag is kept under (pure). */
export function previousName(name: string, repoDigest: string): string {
  const at = name.indexOf('@');
  const base = at >= 0 ? name.slice(0, at) : name;
  const slash = base.lastIndexOf('/');
  const colon = base.lastIndexOf(':');
  return `${colon > slash ? base.slice(0, colon) : base}@${repoDigest}`;
}

/**
 * index.json's entries after naming `record` (pure): the entry it replaces is dropped, or, with
 * `keepPrevious` and another digest, kept under its digest name, marked as a previous of the name.
 */
export function entriesAfterPut(
  manifests: Descriptor[],
  record: ImageRecord,
  keepPrevious: boolean,
  now: string,
): Descriptor[] {
  const out: Descriptor[] = [];
  let previous: ImageRecord | undefined;
  for (const m of manifests) {
    const r = entryToRecord(m);
    if (r?.name !== record.name) out.push(m);
    else if (keepPrevious && r.target.digest !== record.target.digest) previous = r;
  }
  if (previous) {
    const name = previousName(previous.name, previous.repoDigest);
    const kept = out.findIndex((m) => entryToRecord(m)?.name === name);
    if (kept >= 0) out.splice(kept, 1);
    out.push(recordToEntry({ ...previous, name, previousOf: record.name, replacedAt: now }));
  }
  return [...out, recordToEntry(record)];
}
