import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BerthError } from '../lib/errors.js';

/**
 * Hashes and counts the uncompressed stream as it passes (for the diffID), and stops it with
 * ERR_LAYER_TOO_LARGE past `maxBytes`: a decompression bomb never gets further than the cap.
 */
export class DiffIdVerifier extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly what: string,
  ) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(
        new BerthError(
          'ERR_LAYER_TOO_LARGE',
          'limit',
          `${this.what}: uncompressed size exceeds ${this.maxBytes} bytes`,
          {
            hint: 'raise unpack.maxLayerBytes in the host config if the image is trusted',
          },
        ),
      );
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}
