// Layer decompression by media type (gzip, including multi-member; zstd; plain tar), with 1 MiB
// chunks (Node's gunzip runs 3–6× faster than with the default 16 KiB ones).
import type { Transform } from 'node:stream';
import { PassThrough } from 'node:stream';
import { constants, createGunzip, createZstdDecompress } from 'node:zlib';
import { BerthError } from '../lib/errors.js';
import { layerCompression } from '../oci/media-types.js';

export const CHUNK_BYTES = 1 << 20;

export function createDecompressor(mediaType: string): Transform {
  switch (layerCompression(mediaType)) {
    case 'gzip':
      return createGunzip({ chunkSize: CHUNK_BYTES });
    case 'zstd':
      return createZstdDecompress({
        chunkSize: CHUNK_BYTES,
        params: { [constants.ZSTD_d_windowLogMax]: 31 },
      });
    case 'none':
      return new PassThrough({ highWaterMark: CHUNK_BYTES });
    default:
      throw new BerthError(
        'ERR_MEDIA_TYPE_UNSUPPORTED',
        'invalid',
        `cannot unpack a layer of media type "${mediaType}"`,
      );
  }
}
