// A minimal tar writer for image archives: regular files with short ASCII names (blobs/sha256/…,
// index.json), ustar headers, fixed mode and mtime 0 so the same images give the same bytes.
import type { FileHandle } from 'node:fs/promises';
import { BerthError } from '../lib/errors.js';

const BLOCK = 512;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0');
}

/** One ustar header (pure). */
export function tarHeader(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 100 || !/^[\x21-\x7e]+$/.test(name)) {
    throw new BerthError('ERR_ARCHIVE_NAME', 'internal', `cannot write tar entry "${name}"`);
  }
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 'utf8');
  h.write(octal(0o644, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(0, 12), 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${octal(sum, 7)}\0`, 148, 'latin1');
  return h;
}

export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** Appends entries to an open file; `end()` writes the two zero blocks that close an archive. */
export class TarWriter {
  private position = 0;

  constructor(private readonly out: FileHandle) {}

  private async write(buf: Buffer): Promise<void> {
    await this.out.write(buf, 0, buf.length, this.position);
    this.position += buf.length;
  }

  async addBytes(name: string, bytes: Buffer): Promise<void> {
    await this.write(tarHeader(name, bytes.length));
    await this.write(bytes);
    await this.write(padding(bytes.length));
  }

  /** An entry whose `size` bytes come from `chunks` (exactly that many, or ERR_SIZE_MISMATCH). */
  async addStream(name: string, size: number, chunks: AsyncIterable<Buffer>): Promise<void> {
    await this.write(tarHeader(name, size));
    let n = 0;
    for await (const c of chunks) {
      n += c.length;
      if (n > size) break;
      await this.write(c);
    }
    if (n !== size) {
      throw new BerthError(
        'ERR_SIZE_MISMATCH',
        'integrity',
        `${name}: ${n} bytes where ${size} were expected`,
      );
    }
    await this.write(padding(size));
  }

  async end(): Promise<void> {
    await this.write(Buffer.alloc(BLOCK * 2));
  }
}
