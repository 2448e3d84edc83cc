import { ambiguousName, entriesNamed } from '../content/image-names.js';
import type { ContentStore, ImageRecord } from '../content/types.js';
import { BerthError } from '../lib/errors.js';
import { type Digest, digestHex } from '../oci/digest.js';
import { formatReference, parseReference } from '../oci/reference.js';
import { describeImage } from './describe.js';

const ID_PREFIX = /^(sha256:|sha512:)?[a-f0-9]{4,128}$/;

/**
 * The images a user means by `query`: a reference (normalised: `busybox` finds
 * docker.io/library/busybox:latest) or an ID or ID prefix (at least 4 hex digits).
 * Throws ERR_IMAGE_NOT_FOUND naming the query when nothing matches, and ERR_AMBIGUOUS when an ID
 * prefix names more than one image (several names of one image are that one image), or when the
 * store's index.json gives the name to entries of different digests (content/image-names.ts), unless
 * `every` asks for each of them (`image rm`, which removes the name).
 */
export async function findImages(
  store: ContentStore,
  query: string,
  options: { every?: boolean } = {},
): Promise<ImageRecord[]> {
  const records = await store.listImages();
  let name: string | undefined;
  try {
    name = formatReference(parseReference(query));
  } catch (err) {
    if (!ID_PREFIX.test(query)) throw err;
  }
  const byName = name === undefined ? [] : entriesNamed(records, name);
  if (byName.length > 1 && !options.every) throw ambiguousName(name as string, byName);
  if (byName.length > 0) return byName;
  if (ID_PREFIX.test(query)) {
    // With no algorithm, the hex digits as `image ls` shows them, of a sha256 or a sha512 digest.
    const starts = (digest: Digest) => (query.includes(':') ? digest : digestHex(digest)).startsWith(query);
    const matches: ImageRecord[] = [];
    const ids = new Set<string>();
    for (const r of records) {
      const details = await describeImage(store, r);
      if (starts(details.id) || starts(r.target.digest)) {
        matches.push(r);
        ids.add(details.id);
      }
    }
    // A prefix two images share means neither: `image rm` would remove both (docker refuses it too).
    // One image under several names is one ID, and those names are what it means.
    if (ids.size > 1) {
      throw new BerthError(
        'ERR_AMBIGUOUS',
        'invalid',
        `"${query}" is the start of ${ids.size} image IDs or digests (${matches.map((r) => r.name).join(', ')})`,
        { hint: 'give more of the ID, or a reference' },
      );
    }
    if (matches.length > 0) return matches;
  }
  throw new BerthError('ERR_IMAGE_NOT_FOUND', 'not-found', `image "${query}" is not in the store`, {
    hint: 'see berth image ls',
  });
}

/** The one image `query` names (findImages: several names of one ID are that one image). */
export async function findImage(store: ContentStore, query: string): Promise<ImageRecord> {
  return (await findImages(store, query))[0] as ImageRecord;
}
