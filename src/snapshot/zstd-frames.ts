// zstd layers of several frames. Node's zstd stream stops at the end of the first frame (a
// skippable frame first made a layer decompress to nothing), but the format allows any number of
// frames, and seekable forms (zstd:chunked, estargz-like) write many, with skippable frames between.
// Here the compressed stream is split at frame boundaries (read from the frame and block headers,
// RFC 8878 §3.1), skippable frames are dropped, and each zstd frame goes through a decompressor of
// its own, their outputs in order. Frame bytes are passed on in ~1 MiB pieces, never buffered whole.
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { constants, createZstdDecompress } from 'node:zlib';
import { BerthError } from '../lib/errors.js';

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BATCH_BYTES = 1 << 20;

function corrupt(why: string): BerthError {
  return new BerthError('ERR_LAYER_CORRUPT', 'integrity', `malformed zstd stream: ${why}`);
}

/** Pull-based reading of an async byte source: small headers by value, bodies as slices. */
class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  private readonly it: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else if (r.value.length > 0) {
        this.chunks.push(r.value);
        this.buffered += r.value.length;
      }
    }
    return this.buffered >= n;
  }

  /** Whether the source has ended with nothing left. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  /** Exactly `n` bytes (a copy), or a corrupt-stream error. */
  async take(n: number, what: string): Promise<Buffer> {
    if (!(await this.fill(n))) throw corrupt(`truncated ${what}`);
    const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    const out = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  /** The next `n` bytes as slices (`keep` false: skip them). */
  async *slices(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill(1))) throw corrupt(`truncated ${what}`);
      const head = this.chunks[0] as Buffer;
      const part = head.length <= left ? head : head.subarray(0, left);
      if (part === head) this.chunks.shift();
      else this.chunks[0] = head.subarray(left);
      this.buffered -= part.length;
      left -= part.length;
      yield part;
    }
  }
}

/**
 * The most memory a frame's window may take: what containerd's decoder (klauspost/compress) takes
 * by default, 512 MiB. The format allows windows to 3.75 TiB, and the decoder holds one whole per
 * layer being unpacked (several at once): a few bytes of header must not take the host's memory.
 * zstd writes at most 8 MiB at -19, 128 MiB at --ultra -22, --long=N 2^N bytes.
 */
export const MAX_ZSTD_WINDOW = 1 << 29;

/**
 * A frame's window (RFC 8878 §3.1.1.1.2) from its header descriptor and the header bytes after it:
 * the window descriptor's, or a single-segment frame's content size (its whole output).
 */
export function windowSize(descriptor: number, rest: Buffer): number {
  if (!((descriptor >> 5) & 1)) {
    const wd = rest[0] as number;
    const base = 2 ** (10 + (wd >> 3));
    return base + (base / 8) * (wd & 7);
  }
  const at = [0, 1, 2, 4][descriptor & 3] as number; // after the dictionary id
  switch (descriptor >> 6) {
    case 0:
      return rest.readUInt8(at);
    case 1:
      return rest.readUInt16LE(at) + 256;
    case 2:
      return rest.readUInt32LE(at);
    default:
      return Number(rest.readBigUInt64LE(at));
  }
}

const MiB = 1 << 20;

function checkWindow(size: number): void {
  if (size <= MAX_ZSTD_WINDOW) return;
  const shown = size >= MiB ? `${Math.round(size / MiB)} MiB` : `${size} bytes`;
  throw new BerthError(
    'ERR_ZSTD_WINDOW_TOO_LARGE',
    'limit',
    `a zstd frame with a window of ${shown} (${size} bytes): above the ${MAX_ZSTD_WINDOW / MiB} MiB berth decodes with, as containerd does`,
    { hint: 'compress the layer with a smaller window: zstd --long=29 or less' },
  );
}

/** The bytes of one zstd frame (its magic already read), header through checksum. */
async function* frameBytes(r: ByteReader, magic: Buffer): AsyncGenerator<Buffer> {
  yield magic;
  const fhd = await r.take(1, 'frame header');
  yield fhd;
  const d = fhd[0] as number;
  const fcsFlag = d >> 6;
  const singleSegment = (d >> 5) & 1;
  const checksum = (d >> 2) & 1;
  const dictFlag = d & 3;
  const headerRest =
    (singleSegment ? 0 : 1) +
    [0, 1, 2, 4][dictFlag]! +
    (fcsFlag === 0 ? singleSegment : [0, 2, 4, 8][fcsFlag]!);
  const rest = headerRest > 0 ? await r.take(headerRest, 'frame header') : Buffer.alloc(0);
  checkWindow(windowSize(d, rest));
  if (headerRest > 0) yield rest;
  for (;;) {
    const bh = await r.take(3, 'block header');
    yield bh;
    const v = (bh[0] as number) | ((bh[1] as number) << 8) | ((bh[2] as number) << 16);
    const last = v & 1;
    const type = (v >> 1) & 3;
    const size = v >>> 3;
    if (type === 3) throw corrupt('reserved block type');
    yield* r.slices(type === 1 ? 1 : size, 'block');
    if (last) break;
  }
  if (checksum) yield await r.take(4, 'frame checksum');
}

/** A decompressing stream for zstd layers of any number of frames. */
export function createZstdFramesDecompressor(chunkSize: number): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<Buffer>) {
    const r = new ByteReader(source);
    while (!(await r.atEnd())) {
      const magicBytes = await r.take(4, 'frame magic');
      const magic = magicBytes.readUInt32LE(0);
      if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
        const size = (await r.take(4, 'skippable frame size')).readUInt32LE(0);
        for await (const _ of r.slices(size, 'skippable frame'));
        continue;
      }
      if (magic !== ZSTD_MAGIC) throw corrupt('not a zstd frame');
      const dec = createZstdDecompress({ chunkSize, params: { [constants.ZSTD_d_windowLogMax]: 29 } });
      const feed = (async () => {
        try {
          // Blocks are at most 128 KiB: handed over one by one, each costs a round through the
          // thread pool (4× slower); batched into ~1 MiB writes, as a single-frame stream would be.
          let batch: Buffer[] = [];
          let bytes = 0;
          const flush = async () => {
            const data = batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch);
            batch = [];
            bytes = 0;
            if (!dec.write(data)) await once(dec, 'drain');
          };
          for await (const part of frameBytes(r, magicBytes)) {
            batch.push(part);
            bytes += part.length;
            if (bytes >= BATCH_BYTES) await flush();
          }
          if (bytes > 0) await flush();
          dec.end();
        } catch (err) {
          dec.destroy(err as Error);
        }
      })();
      for await (const out of dec) yield out as Buffer;
      await feed;
    }
  });
}
