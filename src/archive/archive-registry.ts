// An image archive behind the registry client's port, so `image import` runs the very code a pull
// runs (pull/pull-image.ts): platform selection, size and digest checks, the ingest writer's
// verification before a blob is visible, unpacking into snapshots, and naming the image last.
//
// Invariants: a manifest is read only up to MAX_MANIFEST_BYTES and only when its size and digest
// match what pointed at it; a blob whose file is not exactly its descriptor's size is refused
// before a byte is written; tags are looked up among the archive's names only.
import { BerthError } from '../lib/errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import { digestAlgorithm, digestOf, isDigest } from '../oci/digest.js';
import { MAX_MANIFEST_BYTES, parseManifest } from '../oci/image.js';
import { formatPlatform, type Platform } from '../oci/platform.js';
import { describeOffers } from '../pull/select-entry.js';
import type { FetchedManifest, RegistryClient, RepoRef } from '../registry/types.js';
import type { ImageSet } from './image-set.js';

async function blobBytes(set: ImageSet, desc: Descriptor, max: number): Promise<Buffer> {
  const blob = set.blob(desc.digest);
  if ('bytes' in blob) return blob.bytes;
  const file = await set.files.get(blob.path);
  if (!file)
    throw new BerthError('ERR_BLOB_NOT_FOUND', 'not-found', `${set.files.name} has no blob ${desc.digest}`);
  return file.read(max);
}

/** Whether the archive holds a blob (a docker archive's lookup throws for one it does not name). */
async function holds(set: ImageSet, digest: Descriptor['digest']): Promise<boolean> {
  let blob: ReturnType<ImageSet['blob']>;
  try {
    blob = set.blob(digest);
  } catch {
    return false;
  }
  return 'bytes' in blob || (await set.files.get(blob.path)) !== undefined;
}

/** An index's entries, or none when `bytes` are no index (the resolver then says what they are). */
function entriesOf(bytes: Buffer, mediaType: string, name: string): Descriptor[] {
  try {
    const parsed = parseManifest(bytes, mediaType, name);
    return parsed.kind === 'index' ? parsed.index.manifests : [];
  } catch {
    return [];
  }
}

/**
 * The platform asked for is listed by an index of the archive, and its manifest is not in the
 * archive: an export of one platform keeps the whole index (as berth's, `ctr export --platform` and
 * `docker save` with the containerd store write it). Said as a pull says an index without it.
 */
async function platformMissing(
  set: ImageSet,
  name: string,
  want: Platform | undefined,
  entries: Descriptor[],
): Promise<BerthError> {
  const held: Descriptor[] = [];
  for (const e of entries) if (await holds(set, e.digest)) held.push(e);
  const what = want ? `platform ${formatPlatform(want)}` : 'the platform asked for';
  return new BerthError(
    'ERR_NO_MATCHING_PLATFORM',
    'not-found',
    `${name}: no image for ${what} in ${set.files.name} (it holds: ${describeOffers(held)}; its index lists: ${describeOffers(entries)})`,
    { hint: 'choose one with --platform' },
  );
}

function mismatch(set: ImageSet, desc: Descriptor, why: string): BerthError {
  return new BerthError('ERR_DIGEST_MISMATCH', 'integrity', `${set.files.name}: blob ${desc.digest}: ${why}`);
}

/** `platform`: the one the import asks for (for the message when the archive lacks it). */
export function createArchiveRegistry(set: ImageSet, platform?: Platform): RegistryClient {
  const byDigest = new Map<string, Descriptor>(set.images.map((i) => [i.descriptor.digest, i.descriptor]));
  const byName = new Map(set.images.map((i) => [i.name, i.descriptor]));
  // The entries of each index served, by the digests they name; and the image being resolved.
  const listedBy = new Map<string, Descriptor[]>();
  let image = '';
  return {
    async ping() {},
    async getManifest(repo: RepoRef, target: string, expected?: Descriptor): Promise<FetchedManifest> {
      const name = `${repo.registry}/${repo.repository}${isDigest(target) ? '@' : ':'}${target}`;
      if (!expected) image = name;
      const desc = expected ?? (isDigest(target) ? byDigest.get(target) : byName.get(name));
      if (!desc)
        throw new BerthError('ERR_MANIFEST_NOT_FOUND', 'not-found', `${set.files.name} has no image ${name}`);
      const listed = expected && listedBy.get(desc.digest);
      if (listed && !(await holds(set, desc.digest)))
        throw await platformMissing(set, image || name, platform, listed);
      if (desc.size > MAX_MANIFEST_BYTES) {
        throw new BerthError(
          'ERR_MANIFEST_TOO_LARGE',
          'limit',
          `${name}: manifest larger than ${MAX_MANIFEST_BYTES} bytes`,
        );
      }
      const bytes = await blobBytes(set, desc, MAX_MANIFEST_BYTES);
      if (bytes.length !== desc.size)
        throw mismatch(set, desc, `${bytes.length} bytes, descriptor says ${desc.size}`);
      // In the descriptor's own algorithm (a layout's blobs/sha512/), as a registry pull checks it.
      const digest = digestOf(digestAlgorithm(desc.digest), bytes);
      if (digest !== desc.digest) throw mismatch(set, desc, `content has digest ${digest}`);
      const entries = entriesOf(bytes, desc.mediaType, name);
      for (const e of entries) listedBy.set(e.digest, entries);
      return { bytes, digest, mediaType: desc.mediaType };
    },
    async fetchBlob(_repo, desc, sink, o = {}) {
      const blob = set.blob(desc.digest);
      if ('bytes' in blob) {
        if (blob.bytes.length !== desc.size)
          throw mismatch(set, desc, `${blob.bytes.length} bytes, expected ${desc.size}`);
        await sink.write(blob.bytes.subarray(sink.offset));
        o.onProgress?.(desc.size);
        return;
      }
      const file = await set.files.get(blob.path);
      if (!file)
        throw new BerthError(
          'ERR_BLOB_NOT_FOUND',
          'not-found',
          `${set.files.name} has no blob ${desc.digest}`,
        );
      if (file.size !== desc.size) {
        throw new BerthError(
          'ERR_SIZE_MISMATCH',
          'integrity',
          `${set.files.name}: blob ${desc.digest} is ${file.size} bytes, descriptor says ${desc.size}`,
        );
      }
      let held = sink.offset;
      for await (const chunk of file.stream(sink.offset)) {
        o.signal?.throwIfAborted();
        await sink.write(chunk);
        held += chunk.length;
        o.onProgress?.(held);
      }
    },
    async close() {},
  };
}
