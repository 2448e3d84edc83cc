// Resolve a reference to one platform's image manifest: index → (index → …) → platform's manifest.
// Each level chooses one entry (select-entry.ts), as containerd does; every manifest on the way is
// fetched against the descriptor that named it (size, digest, media type served), and the chain is
// bounded (MAX_INDEX_DEPTH), so a hostile registry cannot lead a pull on for ever.
import { BerthError } from '../lib/errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { type ImageManifest, type ParsedManifest, parseManifest } from '../oci/image.js';
import { isIndexMediaType } from '../oci/media-types.js';
import { formatPlatform, type Platform } from '../oci/platform.js';
import { formatReference, type Reference, referenceTarget } from '../oci/reference.js';
import type { FetchedManifest, RegistryClient } from '../registry/types.js';
import { chooseEntry, describeOffers } from './select-entry.js';

/**
 * How many indexes a chain may hold, the top one included. Tools write one (an index of platforms)
 * or two (an index of such indexes, or one wrapping another); 8 leaves room for what the OCI spec
 * allows while bounding what a registry can make a pull fetch before its first layer (8 × 4 MiB).
 */
export const MAX_INDEX_DEPTH = 8;

/**
 * How many layers an image may have: what overlayfs stacks (the kernel's OVL_MAX_STACK), so no
 * container or image volume of a longer image could mount, and in native form each layer is a copy
 * of the tree below it. Docker refuses images past 125 (moby's maxLayerDepth). Checked before the
 * config or any layer is fetched: a 4 MiB manifest lists some 25,000 layers (one small blob named
 * each time), each a snapshot of its own, unpacked over all those below it.
 */
export const MAX_IMAGE_LAYERS = 500;

export interface StoredManifest {
  descriptor: Descriptor;
  bytes: Buffer;
}

export interface ResolvedImage {
  /** The digest the reference resolved to (the top index when there is one). */
  repoDigest: Digest;
  /** The indexes followed, top first (none when the reference names a manifest). */
  indexes: StoredManifest[];
  /** The chosen platform's manifest. */
  manifestDescriptor: Descriptor;
  manifestBytes: Buffer;
  manifest: ImageManifest;
  /** The mirror that resolved the reference, when not the registry itself. */
  mirror?: string;
  /** The manifest's index entry says no platform: the image's config must say it is the one asked for. */
  platformFromConfig?: boolean;
}

function descriptorOf(fetched: FetchedManifest): Descriptor {
  return { mediaType: fetched.mediaType, digest: fetched.digest, size: fetched.bytes.length };
}

function tooDeep(name: string, child: Descriptor): BerthError {
  return new BerthError(
    'ERR_INDEX_TOO_DEEP',
    'limit',
    `${name}: index ${child.digest} is nested too deep (berth follows a chain of at most ${MAX_INDEX_DEPTH} indexes)`,
  );
}

function tooManyLayers(name: string, manifest: Descriptor, layers: number): BerthError {
  return new BerthError(
    'ERR_TOO_MANY_LAYERS',
    'limit',
    `${name}: manifest ${manifest.digest} has ${layers} layers (berth takes images of at most ${MAX_IMAGE_LAYERS}, as many as overlayfs stacks)`,
  );
}

function noMatch(name: string, want: Platform, index: Descriptor, top: boolean, entries: Descriptor[]) {
  const which = top ? 'index' : `index ${index.digest}`;
  return new BerthError(
    'ERR_NO_MATCHING_PLATFORM',
    'not-found',
    `${name}: no image for platform ${formatPlatform(want)} (${which} offers: ${describeOffers(entries)})`,
    { hint: 'choose one with --platform' },
  );
}

export async function resolveImage(
  registry: RegistryClient,
  ref: Reference,
  platform: Platform,
  signal?: AbortSignal,
): Promise<ResolvedImage> {
  const name = formatReference(ref);
  const repo = { registry: ref.registry, repository: ref.repository };
  const top = await registry.getManifest(repo, referenceTarget(ref), undefined, { signal });
  let fetched = top;
  let parsed: ParsedManifest = parseManifest(top.bytes, top.mediaType, name);
  const indexes: StoredManifest[] = [];
  let chosen: Descriptor | undefined;
  while (parsed.kind === 'index') {
    const here = descriptorOf(fetched);
    indexes.push({ descriptor: here, bytes: fetched.bytes });
    chosen = chooseEntry(platform, parsed.index.manifests);
    if (!chosen) throw noMatch(name, platform, here, indexes.length === 1, parsed.index.manifests);
    if (isIndexMediaType(chosen.mediaType) && indexes.length >= MAX_INDEX_DEPTH) throw tooDeep(name, chosen);
    fetched = await registry.getManifest(repo, chosen.digest, chosen, { signal });
    if (fetched.mediaType !== chosen.mediaType) {
      throw new BerthError(
        'ERR_MEDIA_TYPE_MISMATCH',
        'integrity',
        `${name}: manifest ${chosen.digest} was served as ${fetched.mediaType} but the index says ${chosen.mediaType}`,
      );
    }
    parsed = parseManifest(fetched.bytes, fetched.mediaType, `${name} (${chosen.digest})`);
  }
  const manifestDescriptor = descriptorOf(fetched);
  const layers = parsed.manifest.layers.length;
  if (layers > MAX_IMAGE_LAYERS) throw tooManyLayers(name, manifestDescriptor, layers);
  // Through an index, the descriptor carries its entry's platform; an entry that says none is taken
  // for the one asked for, and its config must say so (as containerd checks it), whatever the
  // indexes above it said.
  if (chosen) manifestDescriptor.platform = chosen.platform ?? platform;
  return {
    ...(top.mirror ? { mirror: top.mirror } : {}),
    repoDigest: top.digest,
    indexes,
    manifestDescriptor,
    manifestBytes: fetched.bytes,
    manifest: parsed.manifest,
    ...(chosen && !chosen.platform ? { platformFromConfig: true } : {}),
  };
}
