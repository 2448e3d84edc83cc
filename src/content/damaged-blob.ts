// A committed blob whose bytes no longer hash to its name: a bad sector, a flipped bit on an SD card,
// a hand edit. Commit verified it once (ingest.ts); nothing re-reads it on every use, so it is found
// when a use fails: an unpack that cannot decompress it or gets another diffID, an export whose
// bytes hash to something else. Such a blob is taken out of the store (a pull or import then
// fetches it again, as for any missing blob) and the error names it; a blob that still matches its
// digest stays, and the failure is the image's own (a layer that was never valid).
import { open, stat, unlink } from 'node:fs/promises';
import { BerthError } from '../lib/errors.js';
import { createDigester, type Digest } from '../oci/digest.js';

/**
 * The digest `path`'s bytes hash to now, when it is not `digest`, after taking the file out of the
 * store; undefined when it matches (or is gone). A file put back meanwhile (another pull committed
 * a good copy) is left in place.
 */
export async function takeOutIfDamaged(path: string, digest: Digest): Promise<Digest | undefined> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const hash = createDigester(digest);
    for await (const chunk of fh.createReadStream({ autoClose: false, highWaterMark: 1 << 20 }))
      hash.update(chunk);
    const actual = `${digest.slice(0, digest.indexOf(':'))}:${hash.digest('hex')}` as Digest;
    if (actual === digest) return undefined;
    const [held, now] = await Promise.all([fh.stat(), stat(path).catch(() => undefined)]);
    if (now && now.ino === held.ino && now.dev === held.dev) await unlink(path).catch(() => undefined);
    return actual;
  } finally {
    await fh.close();
  }
}

/** The error for a damaged blob found while `what` used it (`image`: the reference to pull again). */
export function damagedBlobError(what: string, digest: Digest, actual: Digest, image?: string): BerthError {
  return new BerthError(
    'ERR_BLOB_DAMAGED',
    'integrity',
    `${what}: the stored blob ${digest} is damaged (its bytes now hash to ${actual}); it was taken out of the store`,
    { hint: image ? `berth image pull ${image} fetches it again` : 'pull or import the image again' },
  );
}
