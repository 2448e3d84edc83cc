// An OCI image layout (a directory, or the same tree in a tar: oci-archive) as an ImageSet.
// Names come from io.containerd.image.name (containerd, docker) or from
// org.opencontainers.image.ref.name when that is a whole reference (berth, skopeo with a name);
// a bare tag ("latest") names nothing berth can use, so that image is listed as unnamed.
import { BerthError } from '../lib/errors.js';
import { type Descriptor, isObject, parseDescriptor, REF_NAME_ANNOTATION } from '../oci/descriptor.js';
import { digestAlgorithm, digestHex } from '../oci/digest.js';
import { MAX_MANIFEST_BYTES, parseJson } from '../oci/image.js';
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
  const images: ArchiveImage[] = [];
  const unnamed: Descriptor[] = [];
  const seen = new Set<string>();
  for (const [i, m] of manifests.entries()) {
    const descriptor = parseDescriptor(m, `manifests[${i}] of ${where}`);
    const name = nameOfEntry(descriptor.annotations);
    if (!name) unnamed.push(descriptor);
    else if (!seen.has(name)) {
      seen.add(name);
      images.push({ name, descriptor });
    }
  }
  return {
    format: 'oci',
    files,
    images,
    unnamed,
    // The digest was validated (parseDescriptor / isDigest) before this path is built from it.
    blob: (digest) => ({ path: `blobs/${digestAlgorithm(digest)}/${digestHex(digest)}` }),
  };
}
