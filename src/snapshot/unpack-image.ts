// Unpacking layer blobs: each blob is read once, decompressed, hashed for its diffID and applied
// in one pass. `runUnpackJob` does one layer (in this thread or a worker's); `unpackImage` flattens
// a whole image in the native form.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { ContentStore } from '../content/types.js';
import { BerthError } from '../lib/errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { ImageConfig } from '../oci/image.js';
import { type ApplyMode, type ApplyTargetFactory, applyHere } from './apply.js';
import { CHUNK_BYTES, createDecompressor } from './decompress.js';
import { type FollowedBlob, followBlob } from './follow-source.js';
import { checkFreeSpace, DiffIdVerifier } from './verify-stream.js';

export interface UnpackLimits {
  maxLayerBytes: number;
  maxImageBytes: number;
  /** Free bytes that must remain on the destination's file system, before and during an unpack. */
  reserveBytes: number;
}

/** One layer to unpack: plain data, so it can cross into a worker thread. */
export interface UnpackJob {
  blobPath: string;
  mediaType: string;
  digest: string;
  diffId: string;
  dest: string;
  mode: ApplyMode;
  maxBytes: number;
  reserveBytes: number;
  preserveOwnership: boolean;
  /** Overlay form: lower snapshot directories, top first (see ApplyOptions.lowers). */
  lowers?: string[];
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
  const what = `layer ${job.digest}`;
  checkFreeSpace(job.dest, job.reserveBytes, what);
  const verifier = new DiffIdVerifier(
    { maxBytes: job.maxBytes, reserveBytes: job.reserveBytes, dest: job.dest },
    what,
  );
  const source = job.follow
    ? followBlob(job.follow)
    : createReadStream(job.blobPath, { highWaterMark: CHUNK_BYTES });
  const apply = target(job.dest, job);
  try {
    await pipeline(source, createDecompressor(job.mediaType), verifier, apply.sink);
  } catch (err) {
    throw wrapStreamError(err, what);
  } finally {
    await apply.closed;
  }
  const actual = verifier.digest();
  if (actual !== job.diffId) {
    throw new BerthError(
      'ERR_DIFFID_MISMATCH',
      'integrity',
      `${what}: uncompressed content has digest ${actual}, config says ${job.diffId}`,
    );
  }
  return verifier.bytes;
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

function wrapStreamError(err: unknown, what: string): unknown {
  if (err instanceof BerthError) return err;
  const code = (err as { code?: string }).code ?? '';
  if (code === 'ENOSPC') {
    return new BerthError('ERR_NO_SPACE', 'limit', `${what}: the file system is full`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  if (code.startsWith('Z_') || /zlib|zstd|header|gzip|tar|Invalid|Unexpected end/i.test(message)) {
    return new BerthError('ERR_LAYER_CORRUPT', 'integrity', `${what}: ${message}`, { cause: err });
  }
  return err;
}

/** Every layer of an image, in order, applied to `dest` in the native form. */
export async function unpackImage(
  store: ContentStore,
  layers: Descriptor[],
  config: ImageConfig,
  dest: string,
  limits: UnpackLimits,
  target: ApplyTargetFactory = applyHere,
): Promise<number> {
  let total = 0;
  const preserveOwnership = process.getuid?.() === 0;
  for (const [i, layer] of layers.entries()) {
    total += await applyLayerBlob(
      store,
      layer,
      config.rootfs.diff_ids[i] as string,
      dest,
      {
        mode: 'native',
        maxBytes: Math.min(limits.maxLayerBytes, limits.maxImageBytes - total),
        reserveBytes: limits.reserveBytes,
        preserveOwnership,
      },
      target,
    );
  }
  return total;
}
