// `image import`: every named image of an archive, each brought in exactly as a pull brings it
// (pull/pull-image.ts over the archive-registry.ts adapter). Content already in the store is
// skipped, so an interrupted import resumes; an image is named only once all of it is stored and
// unpacked, so a failure leaves nothing half-visible.
import { BerthError } from '../lib/errors.js';
import { parseReference } from '../oci/reference.js';
import { type PullDeps, type PullOptions, type PullResult, pullImage } from '../pull/index.js';
import { createArchiveRegistry } from './archive-registry.js';
import { type OpenArchiveOptions, openArchive } from './open-archive.js';

export interface ImportResult {
  archive: string;
  format: 'oci' | 'docker';
  images: PullResult[];
  /** Digests of images the archive holds without a usable name (not imported). */
  unnamed: string[];
}

export async function importImages(
  deps: Omit<PullDeps, 'registry'>,
  path: string,
  options: PullOptions & OpenArchiveOptions & { only?: string },
): Promise<ImportResult> {
  const set = await openArchive(path, options);
  try {
    if (set.images.length === 0) {
      throw new BerthError(
        set.unnamed.length > 0 ? 'ERR_IMPORT_UNNAMED' : 'ERR_ARCHIVE_EMPTY',
        'invalid',
        set.unnamed.length > 0
          ? `${path}: its ${set.unnamed.length} image(s) carry no reference to name them by`
          : `${path} holds no images`,
        {
          hint: 'save or copy the image with a name (docker save NAME:TAG, skopeo copy … oci-archive:FILE:NAME:TAG)',
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
    const registry = createArchiveRegistry(set);
    const images: PullResult[] = [];
    for (const image of chosen) {
      images.push(await pullImage({ ...deps, registry }, parseReference(image.name), options));
    }
    return { archive: path, format: set.format, images, unnamed: set.unnamed };
  } finally {
    await set.close();
  }
}
