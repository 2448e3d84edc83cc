// Unpacking layer blobs: each blob is read once, decompressed, hashed for its diffID and applied
// in one pass. `runUnpackJob` does one layer (in this thread or a worker's); `unpackImage` flattens
// a whole image in the native form.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { damagedBlobError, takeOutIfDamaged } from '../content/damaged-blob.js';
import type { ContentStore } from '../content/types.js';
import { BerthError } from '../lib/errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import type { ImageConfig } from '../oci/image.js';
import type { ApplyMode } from './apply.js';
import { type ApplyTargetFactory, applyHere } from './apply-here.js';
import { CHUNK_BYTES, createDecompressor } from './decompress.js';
import { type FollowedBlob, followBlob } from './follow-source.js';
import { checkFreeSpace, DiffIdVerifier } from './verify-stream.js';

export interface UnpackLimits {
  maxLayerBytes: number;
  maxImageBytes: number;
  /** Free bytes that must remain on the destination's file system, before and during an unpack. */
  reserveBytes: number;
}

/**
 * The uncompressed bytes of a whole image, counted while its layers unpack (several at once):
 * `unpack.maxImageBytes` stops the unpack as soon as the sum passes it, not after.
 */
export interface ImageBudget {
  used: number;
  readonly max: number;
}

/** One layer to unpack. */
export interface UnpackJob {
  blobPath: string;
  mediaType: string;
  digest: string;
  diffId: string;
  /** The image's name, for messages. */
  image?: string;
  /** Shared by the image's layers (see ImageBudget). */
  budget?: ImageBudget;
  dest: string;
  mode: ApplyMode;
  maxBytes: number;
  reserveBytes: number;
  preserveOwnership: boolean;
  /** Overlay form: lower snapshot directories, top first (see ApplyOptions.lowers). */
  lowers?: string[];
  /** Overlay form: see ApplyOptions.implicitDirsFile. */
  implicitDirsFile?: string;
  /** Overlay form: see ApplyOptions.parentsFile. */
  parentsFile?: string;
  /** The blob is still downloading: read it as it lands (otherwise `blobPath` is read). */
  follow?: FollowedBlob;
}

/** Runs an UnpackJob and resolves to the layer's uncompressed size (in-process or in a worker). */
export type UnpackRunner = (job: UnpackJob) => Promise<number>;

/**
 * Read, decompress and verify a layer in this thread; apply it through `target` (here by default,
 * or in a worker thread, see apply-thread.ts). Resolves to the uncompressed size once the target
 * has let go of the destination.
 */
export async function runUnpackJob(job: UnpackJob, target: ApplyTargetFactory = applyHere): Promise<number> {
  const what = job.image ? `layer ${job.digest} of ${job.image}` : `layer ${job.digest}`;
  try {
    checkFreeSpace(job.dest, job.reserveBytes, what);
  } catch (err) {
    throw wrapStreamError(err, what, job.dest);
  }
  const verifier = new DiffIdVerifier(
    {
      maxBytes: job.maxBytes,
      reserveBytes: job.reserveBytes,
      dest: job.dest,
      ...(job.budget ? { budget: job.budget } : {}),
    },
    what,
  );
  const source = job.follow
    ? followBlob(job.follow)
    : createReadStream(job.blobPath, { highWaterMark: CHUNK_BYTES });
  const apply = target(job.dest, job);
  try {
    await pipeline(source, createDecompressor(job.mediaType), verifier, apply.sink);
  } catch (err) {
    if (job.budget) job.budget.used -= verifier.bytes; // this attempt's bytes are not on disk
    throw await unlessDamaged(job, what, wrapStreamError(err, what, job.dest, job.lowers));
  } finally {
    await apply.closed;
  }
  const actual = verifier.digest();
  if (actual !== job.diffId) {
    throw await unlessDamaged(
      job,
      what,
      new BerthError(
        'ERR_DIFFID_MISMATCH',
        'integrity',
        `${what}: uncompressed content has digest ${actual}, config says ${job.diffId}`,
      ),
    );
  }
  return verifier.bytes;
}

/**
 * `err`, or ERR_BLOB_DAMAGED when a committed blob's bad content is the store's damage, not the
 * image's (damaged-blob.ts: the blob is then taken out, and the next pull fetches it again).
 */
async function unlessDamaged(job: UnpackJob, what: string, err: unknown): Promise<unknown> {
  const code = (err as { code?: string }).code;
  if (job.follow || (code !== 'ERR_LAYER_CORRUPT' && code !== 'ERR_DIFFID_MISMATCH')) return err;
  const actual = await takeOutIfDamaged(job.blobPath, job.digest as Digest).catch(() => undefined);
  return actual ? damagedBlobError(what, job.digest as Digest, actual, job.image) : err;
}

/** Apply one layer blob of `store` to `dest`, verifying its diffID; returns its uncompressed size. */
export function applyLayerBlob(
  store: ContentStore,
  layer: Descriptor,
  diffId: string,
  dest: string,
  options: { mode: ApplyMode; maxBytes: number; reserveBytes: number; preserveOwnership: boolean },
  target: ApplyTargetFactory = applyHere,
): Promise<number> {
  return runUnpackJob(
    {
      blobPath: store.blobPath(layer.digest),
      mediaType: layer.mediaType,
      digest: layer.digest,
      diffId,
      dest,
      ...options,
    },
    target,
  );
}

/**
 * One line naming the layer (and image): every error gets `what` in front, and the destination
 * (a temp directory of the snapshot store) is cut from paths, which are shown as in the image.
 */
function wrapStreamError(err: unknown, what: string, dest: string, lowers: readonly string[] = []): unknown {
  const code = (err as { code?: string }).code ?? '';
  const raw = err instanceof Error ? err.message : String(err);
  let message = raw;
  // A lower snapshot's path (a file copied up from it) is shown as in the image too.
  for (const at of [dest, ...lowers]) message = message.split(`${at}/`).join('/');
  message = message.split(dest).join('the destination');
  const prefixed = message.startsWith(what) ? message : `${what}: ${message}`;
  if (err instanceof BerthError) {
    if (prefixed === err.message) return err;
    return new BerthError(err.code, err.kind, prefixed, {
      cause: err,
      ...(err.hint ? { hint: err.hint } : {}),
    });
  }
  if (code === 'ENOSPC') {
    // Node says "ENOSPC: no space left on device, write"; the entry being written is named before it.
    const entry = message.slice(0, Math.max(0, message.lastIndexOf('ENOSPC:')));
    return new BerthError('ERR_NO_SPACE', 'limit', `${what}: ${entry}the file system is full`, {
      cause: err,
    });
  }
  // A decompressor's words; never an entry's own failure (its name could hold any of them).
  if (
    code.startsWith('Z_') ||
    (!raw.startsWith('entry ') && /zlib|zstd|header|gzip|tar|Invalid|Unexpected end/i.test(raw))
  ) {
    return new BerthError('ERR_LAYER_CORRUPT', 'integrity', prefixed, { cause: err });
  }
  return new BerthError('ERR_UNPACK_FAILED', 'internal', prefixed, { cause: err });
}

export interface ImageToUnpack {
  name: string;
  layers: Descriptor[];
  config: ImageConfig;
}

/** Every layer of an image, in order, applied to `dest` in the native form. */
export async function unpackImage(
  store: ContentStore,
  image: ImageToUnpack,
  dest: string,
  limits: UnpackLimits,
  target: ApplyTargetFactory = applyHere,
): Promise<number> {
  let total = 0;
  const preserveOwnership = process.getuid?.() === 0;
  const budget: ImageBudget = { used: 0, max: limits.maxImageBytes };
  for (const [i, layer] of image.layers.entries()) {
    total += await runUnpackJob(
      {
        blobPath: store.blobPath(layer.digest),
        mediaType: layer.mediaType,
        digest: layer.digest,
        diffId: image.config.rootfs.diff_ids[i] as string,
        image: image.name,
        budget,
        dest,
        mode: 'native',
        maxBytes: limits.maxLayerBytes,
        reserveBytes: limits.reserveBytes,
        preserveOwnership,
      },
      target,
    );
  }
  return total;
}
