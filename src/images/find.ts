import type { ContentStore, ImageRecord } from '../content/types.js';
import { BerthError } from '../lib/errors.js';
import { formatReference, parseReference } from '../oci/reference.js';
import { describeImage } from './describe.js';

const ID_PREFIX = /^(sha256:)?[a-f0-9]{4,64}$/;

/**
 * The images a user means by `query`: a reference (normalised: `busybox` finds
 * docker.io/library/busybox:latest) or an ID or ID prefix (at least 4 hex digits).
 * Throws ERR_IMAGE_NOT_FOUND naming the query when nothing matches.
 */
export async function findImages(store: ContentStore, query: string): Promise<ImageRecord[]> {
  const records = await store.listImages();
  let name: string | undefined;
  try {
    name = formatReference(parseReference(query));
  } catch (err) {
    if (!ID_PREFIX.test(query)) throw err;
  }
  const byName = records.filter((r) => r.name === name);
  if (byName.length > 0) return byName;
  if (ID_PREFIX.test(query)) {
    const want = query.startsWith('sha256:') ? query : `sha256:${query}`;
    const matches: ImageRecord[] = [];
    for (const r of records) {
      const details = await describeImage(store, r);
      if (details.id.startsWith(want) || r.target.digest.startsWith(want)) matches.push(r);
    }
    if (matches.length > 0) return matches;
  }
  throw new BerthError('ERR_IMAGE_NOT_FOUND', 'not-found', `image "${query}" is not in the store`, {
    hint: 'see berth image ls',
  });
}
