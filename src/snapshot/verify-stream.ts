import { createHash } from 'node:crypto';
import { statfsSync } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { BerthError } from '../lib/errors.js';

/** How often (in uncompressed bytes) the free space of the destination is looked at again. */
const SPACE_CHECK_BYTES = 32 << 20;

export interface StreamBounds {
  maxBytes: number;
  /** Free bytes that must remain on the destination's file system. */
  reserveBytes: number;
  /** A directory on the destination's file system. */
  dest: string;
  /** The whole image's bytes, shared by its layers. */
  budget?: { used: number; readonly max: number };
}

export function imageTooLarge(what: string, max: number): BerthError {
  return new BerthError(
    'ERR_IMAGE_TOO_LARGE',
    'limit',
    `${what}: the image's uncompressed size exceeds unpack.maxImageBytes ${max}`,
    {
      hint: 'raise unpack.maxImageBytes in the host config if the image is trusted',
    },
  );
}

/** Free bytes for unprivileged use on the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Throws ERR_NO_SPACE when less than `reserveBytes` are free; returns what is left above it. */
export function checkFreeSpace(dir: string, reserveBytes: number, what: string): number {
  const free = freeBytes(dir);
  if (free < reserveBytes) {
    throw new BerthError(
      'ERR_NO_SPACE',
      'limit',
      `${what}: only ${free} bytes free on ${dir}, below the reserve of ${reserveBytes}`,
      {
        hint: 'free space, or lower unpack.reserveBytes in the host config',
      },
    );
  }
  return free - reserveBytes;
}

/**
 * Hashes and counts the uncompressed stream as it passes (for the diffID), and stops it with
 * ERR_LAYER_TOO_LARGE past `maxBytes` or ERR_NO_SPACE when the destination's free space falls below
 * the reserve: a decompression bomb never gets further than either bound.
 */
export class DiffIdVerifier extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  private nextSpaceCheck = 0;

  constructor(
    private readonly bounds: StreamBounds,
    private readonly what: string,
  ) {
    super({ highWaterMark: 8 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes >= this.nextSpaceCheck) {
      try {
        const headroom = checkFreeSpace(this.bounds.dest, this.bounds.reserveBytes + chunk.length, this.what);
        // Look again before the headroom could be used up: every 32 MiB, sooner when it is tight.
        this.nextSpaceCheck =
          this.bytes + Math.max(1 << 20, Math.min(SPACE_CHECK_BYTES, Math.floor(headroom / 2)));
      } catch (err) {
        done(err as Error);
        return;
      }
    }
    const budget = this.bounds.budget;
    if (budget) {
      budget.used += chunk.length;
      if (budget.used > budget.max) {
        done(imageTooLarge(this.what, budget.max));
        return;
      }
    }
    if (this.bytes > this.bounds.maxBytes) {
      done(
        new BerthError(
          'ERR_LAYER_TOO_LARGE',
          'limit',
          `${this.what}: uncompressed size exceeds ${this.bounds.maxBytes} bytes`,
          {
            hint: 'raise unpack.maxLayerBytes in the host config if the image is trusted',
          },
        ),
      );
      return;
    }
    // On the next turn, not now: a decompressor hands its output over synchronously and starts
    // its next round on the thread pool only when that returns; deferring lets the two overlap.
    setImmediate(() => {
      this.hash.update(chunk);
      done(null, chunk);
    });
  }

  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}
