// What an export names for an image: what was pulled. An image pulled through an index (a
// multi-platform tag, or an index of indexes) is named in the store by its platform's manifest, with
// the digest the tag resolved to (its repo digest) beside it; every index on the way is stored
// (pull/pull-image.ts, kept by content/gc.ts). The export's index.json entry is that top index, as
// `ctr export` and `docker save` write it, and the chain of indexes down to the manifest goes into
// the archive with it, so an import resolves the same chain to the same repo digest. The other
// platforms' manifests an index names were never pulled: the layout holds the one that was (a
// sparse index, as containerd exports one platform). When the chain is not all stored (an image
// named by another tool), the manifest itself is the entry, as before.
import type { ContentStore } from '../content/types.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { MAX_MANIFEST_BYTES, parseManifest } from '../oci/image.js';
import { bodyMediaType, isIndexMediaType, MediaType } from '../oci/media-types.js';
import { MAX_INDEX_DEPTH } from '../pull/resolve.js';

export interface ExportChain {
  /** The entry index.json names: the top index (without annotations), or the manifest itself. */
  top: Descriptor;
  /** The indexes from the top down to the manifest, each to be written as a blob. */
  indexes: Descriptor[];
}

type Store = Pick<ContentStore, 'size' | 'readBlob'>;

/** A stored index's own descriptor and children, or undefined (missing, or not an index). */
async function storedIndex(
  store: Store,
  digest: Digest,
  mediaType?: string,
): Promise<{ descriptor: Descriptor; children: Descriptor[] } | undefined> {
  const size = await store.size(digest);
  if (size === undefined || size > MAX_MANIFEST_BYTES) return undefined;
  try {
    const bytes = await store.readBlob(digest, MAX_MANIFEST_BYTES);
    // An OCI index may leave its mediaType out; the entry above it (or the manifests array) says it.
    const type = mediaType || bodyMediaType(bytes) || MediaType.ociIndex;
    if (!isIndexMediaType(type)) return undefined;
    const parsed = parseManifest(bytes, type, digest);
    if (parsed.kind !== 'index') return undefined;
    return { descriptor: { mediaType: type, digest, size }, children: parsed.index.manifests };
  } catch {
    return undefined; // not what the pull stored: the manifest is named instead
  }
}

/** The stored indexes from `digest` down to `target`, top first, or undefined when none leads there. */
async function chainTo(
  store: Store,
  digest: Digest,
  target: Digest,
  mediaType: string | undefined,
  depth: number,
  seen: Set<string>,
): Promise<Descriptor[] | undefined> {
  // An index named twice on the way (a ladder of indexes each naming the next twice) is walked once.
  if (depth > MAX_INDEX_DEPTH || seen.has(digest)) return undefined;
  seen.add(digest);
  const here = await storedIndex(store, digest, mediaType);
  if (!here) return undefined;
  if (here.children.some((c) => c.digest === target)) return [here.descriptor];
  for (const child of here.children) {
    if (!isIndexMediaType(child.mediaType)) continue;
    const below = await chainTo(store, child.digest, target, child.mediaType, depth + 1, seen);
    if (below) return [here.descriptor, ...below];
  }
  return undefined;
}

/** What index.json names for an image of `manifest` (its descriptor) pulled as `repoDigest`. */
export async function exportChain(
  store: Store,
  manifest: Descriptor,
  repoDigest: Digest,
): Promise<ExportChain> {
  const indexes =
    repoDigest === manifest.digest
      ? undefined
      : await chainTo(store, repoDigest, manifest.digest, undefined, 1, new Set());
  if (!indexes || indexes.length === 0) return { top: manifest, indexes: [] };
  return { top: indexes[0] as Descriptor, indexes };
}
