import { BerthError } from '../lib/errors.js';
import type { BlobSink } from '../registry/types.js';

/** Collects a small blob (an image config) in memory, refusing more than `maxBytes`. */
export class MemorySink implements BlobSink {
  private chunks: Buffer[] = [];
  offset = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly what: string,
  ) {}

  write(chunk: Uint8Array): void {
    if (this.offset + chunk.length > this.maxBytes) {
      throw new BerthError(
        'ERR_BLOB_TOO_LARGE',
        'limit',
        `${this.what} is larger than ${this.maxBytes} bytes`,
      );
    }
    this.chunks.push(Buffer.from(chunk));
    this.offset += chunk.length;
  }

  truncate(): void {
    this.chunks = [];
    this.offset = 0;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
