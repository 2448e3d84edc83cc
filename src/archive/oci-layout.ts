// An OCI image layout (a directory, or the same tree in a tar: oci-archive) as an ImageSet.
// Names come from io.containerd.image.name (containerd, docker) or from
// org.opencontainers.image.ref.name when that is a whole reference (berth, skopeo with a name);
// a bare tag ("latest") names nothing berth can use, so that image is listed as unnamed.
// Several entries under one name (or one bare ref.name), some for a platform, are one image: an
// index made up of them (held in memory), so the import chooses among them by platform as a pull
// chooses in an index; skopeo and containerd would take the first or the last whatever the
// platform. Entries that say no platform keep the first, as skopeo's oci:DIR:TAG takes it.
import { BerthError } from '../lib/errors.js';
import { type Descriptor, isObject, parseDescriptor, REF_NAME_ANNOTATION } from '../oci/descriptor.js';
import { type Digest, digestAlgorithm, digestHex, sha256Of } from '../oci/digest.js';
import { MAX_MANIFEST_BYTES, parseJson } from '../oci/image.js';
import { isIndexMediaType, MediaType } from '../oci/media-types.js';
import { formatReference, parseReference } from '../oci/reference.js';
import type { ArchiveFiles } from './files.js';
import type { ArchiveImage, ImageSet } from './image-set.js';

export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';

/** A reference from an index entry's annotations, or undefined. */
export function nameOfEntry(annotations: Record<string, string> | undefined): string | undefined {
  const candidates = [annotations?.[CONTAINERD_NAME_ANNOTATION], annotations?.[REF_NAME_ANNOTATION]];
  for (const c of candidates) {
    if (!c || !/[:/@]/.test(c)) continue;
    try {
      return formatReference(parseReference(c));
    } catch {
      // a ref.name that is not a reference (OCI allows any string): try the next one
    }
  }
  return undefined;
}

export async function readOciLayout(files: ArchiveFiles): Promise<ImageSet> {
  const where = `index.json of ${files.name}`;
  const file = await files.get('index.json');
  if (!file) throw new BerthError('ERR_ARCHIVE_FORMAT', 'invalid', `${files.name}: no index.json`);
  const json = parseJson(await file.read(MAX_MANIFEST_BYTES), where);
  // null is Go's nil list: Docker 25.0.0–25.0.2 wrote it for a save by ID or digest (moby#47210).
  const manifests = isObject(json) && json.manifests === null ? [] : isObject(json) && json.manifests;
  if (!Array.isArray(manifests)) {
    throw new BerthError('ERR_ARCHIVE_FORMAT', 'integrity', `${where}: no "manifests" array`);
  }
  // Entries by what names them (a reference, else a bare ref.name, else only their digest).
  const groups = new Map<string, { name: string | undefined; entries: Descriptor[]; digests: Set<string> }>();
  for (const [i, m] of manifests.entries()) {
    const descriptor = parseDescriptor(m, `manifests[${i}] of ${where}`);
    const name = nameOfEntry(descriptor.annotations);
    const refName = descriptor.annotations?.[REF_NAME_ANNOTATION];
    const key = name ?? (refName ? `ref.name ${refName}` : `digest ${descriptor.digest}`);
    const group = groups.get(key) ?? { name, entries: [], digests: new Set() };
    if (!group.digests.has(descriptor.digest)) group.entries.push(descriptor);
    group.digests.add(descriptor.digest);
    groups.set(key, group);
  }
  const listed = [...groups.values()].flatMap((g) => g.entries);
  const made = new Map<Digest, Buffer>();
  const images: ArchiveImage[] = [];
  const unnamed: Descriptor[] = [];
  for (const { name, entries } of groups.values()) {
    const descriptor = oneImage(entries, made);
    if (name) images.push({ name, descriptor });
    else unnamed.push(descriptor);
  }
  return {
    format: 'oci',
    files,
    images,
    unnamed,
    listed,
    blob: (digest) => {
      const bytes = made.get(digest);
      // The digest was validated (parseDescriptor / isDigest) before this path is built from it.
      return bytes ? { bytes } : { path: `blobs/${digestAlgorithm(digest)}/${digestHex(digest)}` };
    },
  };
}

/**
 * One name's entries as one image: an index made up of them when they are manifests, some for a
 * platform; else the first (an index among them is taken as the image it already is).
 */
function oneImage(entries: Descriptor[], made: Map<Digest, Buffer>): Descriptor {
  const [first] = entries as [Descriptor, ...Descriptor[]];
  if (entries.length === 1 || !entries.some((e) => e.platform)) return first;
  if (entries.some((e) => isIndexMediaType(e.mediaType))) return first;
  const bytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: entries }),
  );
  const digest = sha256Of(bytes);
  made.set(digest, bytes);
  return {
    mediaType: MediaType.ociIndex,
    digest,
    size: bytes.length,
    ...(first.annotations ? { annotations: first.annotations } : {}),
  };
}
