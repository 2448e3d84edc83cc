// Flattening an image's layers into one directory (the native form): each layer's blob is read
// once, decompressed, hashed for its diffID and applied in one pass.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { ContentStore } from '../content/types.js';
import { BerthError } from '../lib/errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { ImageConfig } from '../oci/image.js';
import { type ApplyMode, applyLayer } from './apply.js';
import { CHUNK_BYTES, createDecompressor } from './decompress.js';
import { checkFreeSpace, DiffIdVerifier } from './verify-stream.js';

export interface UnpackLimits {
  maxLayerBytes: number;
  maxImageBytes: number;
  /** Free bytes that must remain on the destination's file system, before and during an unpack. */
  reserveBytes: number;
}

/** Apply one layer blob to `dest`, verifying its diffID; returns its uncompressed size. */
export async function applyLayerBlob(
  store: ContentStore,
  layer: Descriptor,
  diffId: string,
  dest: string,
  options: { mode: ApplyMode; maxBytes: number; reserveBytes: number; preserveOwnership: boolean },
): Promise<number> {
  const what = `layer ${layer.digest}`;
  checkFreeSpace(dest, options.reserveBytes, what);
  const verifier = new DiffIdVerifier(
    { maxBytes: options.maxBytes, reserveBytes: options.reserveBytes, dest },
    what,
  );
  const source = createReadStream(store.blobPath(layer.digest), { highWaterMark: CHUNK_BYTES });
  const flowing = pipeline(source, createDecompressor(layer.mediaType), verifier).catch((err: unknown) => {
    throw wrapStreamError(err, what);
  });
  const applied = applyLayer(dest, verifier, options).catch((err: unknown) => {
    throw wrapStreamError(err, what);
  });
  await Promise.all([flowing, applied]);
  const actual = verifier.digest();
  if (actual !== diffId) {
    throw new BerthError(
      'ERR_DIFFID_MISMATCH',
      'integrity',
      `${what}: uncompressed content has digest ${actual}, config says ${diffId}`,
    );
  }
  return verifier.bytes;
}

function wrapStreamError(err: unknown, what: string): unknown {
  if (err instanceof BerthError) return err;
  const code = (err as { code?: string }).code ?? '';
  if (code === 'ENOSPC') {
    return new BerthError('ERR_NO_SPACE', 'limit', `${what}: the file system is full`, { cause: err });
  }
  if (
    code.startsWith('Z_') ||
    code === 'ERR__ERROR_FORMAT_PREFIX' ||
    /zlib|zstd|header|gzip/i.test(String(err))
  ) {
    return new BerthError('ERR_LAYER_CORRUPT', 'integrity', `${what}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (/tar|Invalid|Unexpected end/i.test(String((err as Error)?.message))) {
    return new BerthError('ERR_LAYER_CORRUPT', 'integrity', `${what}: ${(err as Error).message}`, {
      cause: err,
    });
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
): Promise<number> {
  let total = 0;
  const preserveOwnership = process.getuid?.() === 0;
  for (const [i, layer] of layers.entries()) {
    const diffId = config.rootfs.diff_ids[i] as string;
    const remaining = limits.maxImageBytes - total;
    total += await applyLayerBlob(store, layer, diffId, dest, {
      mode: 'native',
      maxBytes: Math.min(limits.maxLayerBytes, remaining),
      reserveBytes: limits.reserveBytes,
      preserveOwnership,
    });
  }
  return total;
}
