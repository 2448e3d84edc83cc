// `image import`: every named image of an archive, each brought in exactly as a pull brings it
// (pull/pull-image.ts over the archive-registry.ts adapter). Content already in the store is
// skipped, so an interrupted import resumes; an image is named only once all of it is stored and
// unpacked, so a failure leaves nothing half-visible.
import { BerthError } from '../lib/errors.js';
import { REF_NAME_ANNOTATION } from '../oci/descriptor.js';
import { formatReference, parseReference } from '../oci/reference.js';
import { type PullDeps, type PullOptions, type PullResult, pullImage } from '../pull/index.js';
import { createArchiveRegistry } from './archive-registry.js';
import type { ImageSet } from './image-set.js';
import { type OpenArchiveOptions, openArchive } from './open-archive.js';

export interface ImportResult {
  archive: string;
  format: 'oci' | 'docker';
  images: PullResult[];
  /** Digests of images the archive holds without a usable name (not imported). */
  unnamed: string[];
}

/**
 * `--name REF`: the archive's one image, named or not, under REF (a layout whose ref.name is a
 * bare tag, as `skopeo copy … oci:DIR:TAG` writes; a `docker save` of an image ID). In a layout of
 * several, the one whose ref.name is REF's tag, as skopeo's `oci:DIR:TAG` chooses it (copies of
 * several tags into one DIR), or, for REF@DIGEST, the one of that digest; refused when that does not
 * single one out: which REF names is not said.
 */
export function namedAs(set: ImageSet, path: string, ref: string): ImageSet {
  const parsed = parseReference(ref);
  const name = formatReference(parsed);
  // Every entry, one manifest under several ref.names included (the Map keeps one per digest).
  const raw = [...set.images.map((i) => i.descriptor), ...set.unnamed];
  const all = new Map(raw.map((d) => [d.digest, d]));
  // REF@DIGEST names that manifest; REF:TAG the one whose ref.name is TAG.
  // A digest may name an entry a layout's image was made up of (one name for several platforms).
  const picked = (parsed.digest !== undefined ? [...raw, ...(set.listed ?? [])] : raw).filter((d) =>
    parsed.digest !== undefined
      ? d.digest === parsed.digest
      : parsed.tag !== undefined && d.annotations?.[REF_NAME_ANNOTATION] === parsed.tag,
  );
  const pick = new Map(picked.map((d) => [d.digest, d]));
  if (parsed.digest !== undefined && pick.size === 0 && all.size > 1)
    throw new BerthError(
      'ERR_IMAGE_NOT_IN_ARCHIVE',
      'not-found',
      `${path} has no image of digest ${parsed.digest}`,
    );
  const [only, ...more] =
    (all.size > 1 || parsed.digest !== undefined) && pick.size === 1 ? pick.values() : all.values();
  if (!only || more.length > 0) {
    const tags = raw.flatMap((d) => d.annotations?.[REF_NAME_ANNOTATION] ?? []);
    throw new BerthError(
      'ERR_IMPORT_NAME_AMBIGUOUS',
      'invalid',
      `${path}: --name ${name} names one image, and the archive holds ${all.size}` +
        (tags.length > 0 ? ` (ref.name ${tags.map((t) => JSON.stringify(t)).join(', ')})` : ''),
      {
        hint: 'import it without --name (each image by its own name), give --name the tag of the one you want as its ref.name says it, or export one image per archive',
      },
    );
  }
  return { ...set, images: [{ name, descriptor: only }], unnamed: [] };
}

export async function importImages(
  deps: Omit<PullDeps, 'registry'>,
  path: string,
  options: PullOptions & OpenArchiveOptions & { only?: string; name?: string },
): Promise<ImportResult> {
  const opened = await openArchive(path, options);
  try {
    const set = options.name === undefined ? opened : namedAs(opened, path, options.name);
    if (set.images.length === 0) {
      throw new BerthError(
        set.unnamed.length > 0 ? 'ERR_IMPORT_UNNAMED' : 'ERR_ARCHIVE_EMPTY',
        'invalid',
        set.unnamed.length > 0
          ? `${path}: its ${set.unnamed.length} image(s) carry no reference to name them by`
          : `${path} holds no images`,
        {
          hint: 'give it one with --name REF, or save or copy the image with a name (docker save NAME:TAG, skopeo copy … oci-archive:FILE:NAME:TAG)',
        },
      );
    }
    const chosen =
      options.only === undefined ? set.images : set.images.filter((i) => i.name === options.only);
    if (chosen.length === 0) {
      throw new BerthError(
        'ERR_IMAGE_NOT_IN_ARCHIVE',
        'not-found',
        `${path} has no image ${options.only} (it has: ${set.images.map((i) => i.name).join(', ')})`,
      );
    }
    const registry = createArchiveRegistry(set, options.platform);
    const images: PullResult[] = [];
    for (const image of chosen) {
      images.push(await pullImage({ ...deps, registry }, parseReference(image.name), options));
    }
    return { archive: path, format: set.format, images, unnamed: set.unnamed.map((d) => d.digest) };
  } finally {
    await opened.close();
  }
}
