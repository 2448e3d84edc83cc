// Resolve a reference to one platform's image manifest: index → platform selection → manifest.
import { BerthError } from '../lib/errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { type ImageManifest, parseManifest } from '../oci/image.js';
import { isIndexMediaType } from '../oci/media-types.js';
import { formatPlatform, type Platform, selectPlatform } from '../oci/platform.js';
import { formatReference, type Reference, referenceTarget } from '../oci/reference.js';
import type { FetchedManifest, RegistryClient } from '../registry/types.js';

export interface ResolvedImage {
  /** The digest the reference resolved to (the index when there is one). */
  repoDigest: Digest;
  /** The top-level index, when the reference names one. */
  index?: { descriptor: Descriptor; bytes: Buffer };
  /** The chosen platform's manifest. */
  manifestDescriptor: Descriptor;
  manifestBytes: Buffer;
  manifest: ImageManifest;
  /** The mirror that resolved the reference, when not the registry itself. */
  mirror?: string;
  /** The index entry chosen says no platform: the image's config must say it is the one asked for. */
  platformFromConfig?: boolean;
}

/**
 * An index entry with no platform, when none says the one asked for: containerd takes such an
 * entry too, and checks the config's platform (an attestation, which names what it is, is never one).
 */
function unlabelled(entries: readonly Descriptor[]): Descriptor | undefined {
  return entries.find(
    (m) =>
      !m.platform &&
      !isIndexMediaType(m.mediaType) &&
      !m.annotations?.['vnd.docker.reference.type'] &&
      !(m as { artifactType?: string }).artifactType,
  );
}

function descriptorOf(fetched: FetchedManifest, platform?: Platform): Descriptor {
  const d: Descriptor = { mediaType: fetched.mediaType, digest: fetched.digest, size: fetched.bytes.length };
  if (platform) d.platform = platform;
  return d;
}

/** berth follows one level of index (index → manifest), as registries and tools produce. */
function nestedIndex(name: string, child: Descriptor): BerthError {
  return new BerthError(
    'ERR_MANIFEST_INVALID',
    'integrity',
    `${name}: index nesting too deep: entry ${child.digest} is an index too (berth follows an index to a depth of one)`,
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
  const parsed = parseManifest(top.bytes, top.mediaType, name);
  const via = top.mirror ? { mirror: top.mirror } : {};
  if (parsed.kind === 'manifest') {
    return {
      ...via,
      repoDigest: top.digest,
      manifestDescriptor: descriptorOf(top),
      manifestBytes: top.bytes,
      manifest: parsed.manifest,
    };
  }
  const chosen = selectPlatform(platform, parsed.index.manifests) ?? unlabelled(parsed.index.manifests);
  const nested = parsed.index.manifests.find((m) => isIndexMediaType(m.mediaType));
  if ((!chosen && nested) || (chosen && isIndexMediaType(chosen.mediaType))) {
    throw nestedIndex(name, (chosen ?? nested) as Descriptor);
  }
  if (!chosen) {
    const offered = parsed.index.manifests
      .map((m) => (m.platform ? formatPlatform(m.platform) : 'unknown'))
      .join(', ');
    throw new BerthError(
      'ERR_NO_MATCHING_PLATFORM',
      'not-found',
      `${name}: no image for platform ${formatPlatform(platform)} (index offers: ${offered || 'nothing'})`,
      { hint: 'choose one with --platform' },
    );
  }
  const child = await registry.getManifest(repo, chosen.digest, chosen, { signal });
  if (child.mediaType !== chosen.mediaType) {
    throw new BerthError(
      'ERR_MEDIA_TYPE_MISMATCH',
      'integrity',
      `${name}: manifest ${chosen.digest} was served as ${child.mediaType} but the index says ${chosen.mediaType}`,
    );
  }
  const what = `${name} (${chosen.digest})`;
  const childParsed = parseManifest(child.bytes, child.mediaType, what);
  if (childParsed.kind !== 'manifest') {
    throw nestedIndex(name, chosen);
  }
  return {
    ...via,
    repoDigest: top.digest,
    index: { descriptor: descriptorOf(top), bytes: top.bytes },
    manifestDescriptor: { ...descriptorOf(child), platform: chosen.platform ?? platform },
    manifestBytes: child.bytes,
    manifest: childParsed.manifest,
    ...(chosen.platform ? {} : { platformFromConfig: true }),
  };
}
