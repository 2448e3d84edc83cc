// Which half of a `docker save` of Docker 25+ an import reads: such an archive holds an OCI layout
// (oci-layout, index.json) beside manifest.json, and the layout keeps the image's own manifests (a
// digest a pod pins by), so it is read as containerd's importer reads it, unless Docker wrote it
// short of what manifest.json holds:
// - 25.0.0 wrote each manifest with no layers but foreign ones (moby#47065): a manifest of fewer
//   layers than manifest.json gives the same config cannot be the image;
// - a save by ID or digest names nothing; 25.0.0–25.0.2 then wrote "manifests": null (moby#47210),
//   and every release since lists only the first such image (moby#51389), so a layout of fewer
//   unnamed images than manifest.json's is missing some;
// - a layout naming nothing beside RepoTags that do: those names (as before).
// `preferLayout` is the rule (pure); `layoutFacts` reads what it needs (each manifest, bounded).
import { isObject } from '../oci/descriptor.js';
import { isDigest } from '../oci/digest.js';
import { MAX_MANIFEST_BYTES } from '../oci/image.js';
import { isManifestMediaType } from '../oci/media-types.js';
import type { ImageSet } from './image-set.js';

export interface SetFacts {
  /** Images with a name berth can use. */
  named: number;
  /** Distinct images without one. */
  unnamed: number;
  /** Layer count of each manifest's config (by config digest); indexes are not looked into. */
  layers: ReadonlyMap<string, number>;
}

/** Whether to read the layout rather than manifest.json (`docker` undefined: none, or unreadable). */
export function preferLayout(layout: SetFacts, docker: SetFacts | undefined): boolean {
  if (!docker) return true;
  for (const [config, n] of layout.layers) {
    const want = docker.layers.get(config);
    if (want !== undefined && want !== n) return false;
  }
  if (layout.named > 0) return true;
  if (docker.named > 0) return false;
  return layout.unnamed >= docker.unnamed;
}

/** A manifest's config digest and layer count, or undefined when it is not one to compare. */
function manifestShape(bytes: Buffer): [string, number] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined; // the import's pull names it
  }
  if (!isObject(json) || !isObject(json.config) || typeof json.config.digest !== 'string') return undefined;
  if (!isDigest(json.config.digest)) return undefined;
  const layers = json.layers === null || json.layers === undefined ? [] : json.layers;
  return Array.isArray(layers) ? [json.config.digest, layers.length] : undefined;
}

export async function layoutFacts(set: ImageSet): Promise<SetFacts> {
  const layers = new Map<string, number>();
  const all = [...set.images.map((i) => i.descriptor), ...set.unnamed];
  for (const d of new Map(all.map((x) => [x.digest, x])).values()) {
    if (!isManifestMediaType(d.mediaType) || d.size > MAX_MANIFEST_BYTES) continue;
    const blob = set.blob(d.digest);
    let bytes: Buffer | undefined;
    if ('bytes' in blob) bytes = blob.bytes;
    // One that cannot be read (gone, a link refused) says nothing: the import reads it, or not, later.
    else
      bytes = await set.files
        .get(blob.path)
        .then((f) => f?.read(MAX_MANIFEST_BYTES))
        .catch(() => undefined);
    const shape = bytes && manifestShape(bytes);
    if (shape) layers.set(shape[0], shape[1]);
  }
  return {
    named: set.images.length,
    unnamed: new Set(set.unnamed.map((d) => d.digest)).size,
    layers,
  };
}
