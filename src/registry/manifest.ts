// One manifest GET: Accept negotiation, a hard size cap, and every digest we were promised checked
// against the bytes. The JSON is not parsed here (oci/image.ts parseManifest does that).
import { BerthError } from '../lib/errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import { type Digest, digestAlgorithm, digestOf, isDigest, sha256Of } from '../oci/digest.js';
import { MAX_MANIFEST_BYTES } from '../oci/image.js';
import {
  isGenericContentType,
  MANIFEST_ACCEPT,
  normalizeContentType,
  SCHEMA1_MEDIA_TYPES,
} from '../oci/media-types.js';
import { statusError } from './errors.js';
import { abandon, discard, readBounded } from './response.js';
import { registryGet, type TransportOptions } from './transport.js';
import type { FetchedManifest, RepoRef } from './types.js';

/** What we can use, best first; schema1 last at the lowest q, only so it can be refused clearly. */
export const MANIFEST_ACCEPT_HEADER = [
  ...MANIFEST_ACCEPT,
  ...SCHEMA1_MEDIA_TYPES.map((t) => `${t};q=0.1`),
].join(', ');

/** `registry/repo:tag` or `registry/repo@sha256:…`: how errors name a manifest. */
export function manifestName(repo: RepoRef, target: string): string {
  return `${repo.registry}/${repo.repository}${isDigest(target) ? '@' : ':'}${target}`;
}

function tooLarge(what: string): BerthError {
  return new BerthError(
    'ERR_MANIFEST_TOO_LARGE',
    'limit',
    `${what}: manifest larger than ${MAX_MANIFEST_BYTES} bytes`,
  );
}

function sizeMismatch(what: string, got: string, want: number): BerthError {
  return new BerthError(
    'ERR_SIZE_MISMATCH',
    'integrity',
    `${what}: manifest is ${got} bytes, index says ${want}`,
  );
}

/** What the headers alone already rule out, before any body byte is read. */
function refuseEarly(
  what: string,
  mediaType: string | undefined,
  contentLength: string | undefined,
  expected: Descriptor | undefined,
): BerthError | undefined {
  if (!mediaType) {
    return new BerthError(
      'ERR_MEDIA_TYPE_MISSING',
      'integrity',
      `${what}: manifest served without Content-Type`,
    );
  }
  if (SCHEMA1_MEDIA_TYPES.includes(mediaType)) {
    return new BerthError('ERR_SCHEMA1', 'invalid', `${what}: Docker schema1 manifests are not supported`, {
      hint: 'the image must be re-pushed with a current client (schema1 was deprecated in 2017)',
    });
  }
  if (contentLength === undefined) return undefined;
  const declared = Number(contentLength);
  if (declared > MAX_MANIFEST_BYTES) return tooLarge(what);
  if (expected && declared !== expected.size) return sizeMismatch(what, contentLength, expected.size);
  return undefined;
}

export async function getManifestOnce(
  t: TransportOptions,
  repo: RepoRef,
  target: string,
  expected: Descriptor | undefined,
  signal: AbortSignal | undefined,
): Promise<FetchedManifest> {
  const what = manifestName(repo, target);
  const res = await registryGet(t, repo.registry, `/v2/${repo.repository}/manifests/${target}`, {
    scope: `repository:${repo.repository}:pull`,
    headers: { accept: MANIFEST_ACCEPT_HEADER },
    signal,
    what,
  });
  if (res.statusCode !== 200) {
    await discard(res);
    if (res.statusCode === 404)
      throw new BerthError('ERR_MANIFEST_NOT_FOUND', 'not-found', `${what}: manifest not found`);
    throw statusError(res.statusCode, what, res.headers, t.now());
  }
  const mediaType = normalizeContentType(res.headers['content-type']);
  const refused = refuseEarly(what, mediaType, res.headers['content-length'], expected);
  if (refused) {
    abandon(res);
    throw refused;
  }
  const limit = expected ? Math.min(expected.size, MAX_MANIFEST_BYTES) : MAX_MANIFEST_BYTES;
  // Reading stops at the first byte past the limit: a hostile registry cannot make us buffer more.
  const bytes = await readBounded(res, limit, what, () =>
    expected && expected.size < MAX_MANIFEST_BYTES
      ? sizeMismatch(what, `more than ${limit}`, expected.size)
      : tooLarge(what),
  );
  const header = res.headers['docker-content-digest'];
  const promised: Array<[string, Digest | undefined]> = [
    ['requested', isDigest(target) ? target : undefined],
    ['index', expected?.digest],
    ['Docker-Content-Digest', header !== undefined && isDigest(header) ? header : undefined],
  ];
  // Each promise is checked in its own algorithm (a sha512 reference, an index listing sha512
  // children); the manifest is named in the algorithm it was asked for, else sha256.
  const asked = promised.find(
    ([source, want]) => source !== 'Docker-Content-Digest' && want !== undefined,
  )?.[1];
  const digest = asked ? digestOf(digestAlgorithm(asked), bytes) : sha256Of(bytes);
  for (const [source, want] of promised) {
    if (want === undefined) continue;
    const have =
      digestAlgorithm(want) === digestAlgorithm(digest) ? digest : digestOf(digestAlgorithm(want), bytes);
    if (want !== have) {
      throw new BerthError(
        'ERR_DIGEST_MISMATCH',
        'integrity',
        `${what}: manifest has digest ${have}, ${source} digest is ${want}`,
      );
    }
  }
  if (expected && bytes.length !== expected.size)
    throw sizeMismatch(what, String(bytes.length), expected.size);
  return { bytes, mediaType: servedAs(what, mediaType as string, bytes), digest };
}

/** The manifest's media type: its Content-Type, or the body's own when that says only "JSON". */
function servedAs(what: string, contentType: string, bytes: Uint8Array): string {
  if (!isGenericContentType(contentType)) return contentType;
  let body: { mediaType?: unknown; schemaVersion?: unknown } | null | undefined;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    body = undefined; // parseManifest names what is wrong with it
  }
  if (typeof body?.mediaType === 'string') return body.mediaType;
  if (body?.schemaVersion === 1) return contentType; // parseManifest names it ERR_SCHEMA1
  throw new BerthError(
    'ERR_MEDIA_TYPE_MISSING',
    'integrity',
    `${what}: manifest served as ${contentType} names no mediaType of its own`,
  );
}
