// A minimal tar writer for image archives: regular files with ASCII names (blobs/sha256/…,
// index.json), ustar headers, fixed mode and mtime 0 so the same images give the same bytes.
// What a ustar header cannot hold goes in a PAX record before it, as Go's writer (docker save,
// skopeo) puts it: a name past 100 bytes (blobs/sha512/<128 hex>) and a size past 8 GiB - 1
// (11 octal digits; at 64 GiB a 12th would run into the next field).
import type { FileHandle } from 'node:fs/promises';
import { BerthError } from '../lib/errors.js';

const BLOCK = 512;

/** The largest size a ustar header holds: 11 octal digits and the field's NUL. */
export const MAX_USTAR_SIZE = 0o77777777777;
const MAX_USTAR_NAME = 100;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0');
}

/** One ustar header (pure); `name` and `size` must fit it (`entryHeaders` sees to that). */
export function tarHeader(name: string, size: number, typeflag = '0'): Buffer {
  if (
    Buffer.byteLength(name) > MAX_USTAR_NAME ||
    !/^[\x21-\x7e]+$/.test(name) ||
    !(Number.isSafeInteger(size) && size >= 0 && size <= MAX_USTAR_SIZE)
  ) {
    throw new BerthError('ERR_ARCHIVE_NAME', 'internal', `cannot write tar entry "${name}" of ${size} bytes`);
  }
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 'utf8');
  h.write(octal(0o644, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(0, 12), 136);
  h.write('        ', 148);
  h.write(typeflag, 156, 'latin1');
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

/** "<len> key=value\n", its length counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return `${len}${body}`;
}

/**
 * The headers of one regular file (pure): its ustar header, after a PAX header holding what that
 * cannot (`path`, `size`), as Go's writer writes them: the ustar fields it replaces keep the name cut
 * at 100 bytes and a size of 0, and the PAX header is named PaxHeaders.0/<base> in the entry's
 * directory (cut too).
 */
export function entryHeaders(name: string, size: number): Buffer {
  if (!/^[\x21-\x7e]+$/.test(name) || !(Number.isSafeInteger(size) && size >= 0)) {
    throw new BerthError('ERR_ARCHIVE_NAME', 'internal', `cannot write tar entry "${name}" of ${size} bytes`);
  }
  const longName = name.length > MAX_USTAR_NAME;
  const bigSize = size > MAX_USTAR_SIZE;
  if (!longName && !bigSize) return tarHeader(name, size);
  const slash = name.lastIndexOf('/');
  const base = name.slice(slash + 1);
  const short = (s: string) => s.slice(0, MAX_USTAR_NAME);
  const records =
    (longName ? paxRecord('path', name) : '') + (bigSize ? paxRecord('size', String(size)) : '');
  const paxName = short(`${slash < 0 ? '' : name.slice(0, slash + 1)}PaxHeaders.0/${base}`);
  const body = Buffer.from(records, 'latin1');
  return Buffer.concat([
    tarHeader(paxName, body.length, 'x'),
    body,
    padding(body.length),
    tarHeader(short(name), bigSize ? 0 : size),
  ]);
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
    await this.write(entryHeaders(name, bytes.length));
    await this.write(bytes);
    await this.write(padding(bytes.length));
  }

  /** An entry whose `size` bytes come from `chunks` (exactly that many, or ERR_SIZE_MISMATCH). */
  async addStream(name: string, size: number, chunks: AsyncIterable<Buffer>): Promise<void> {
    await this.write(entryHeaders(name, size));
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
