// Layer decompression (gzip, including multi-member; zstd of any number of frames, see
// zstd-frames.ts; plain tar), with 1 MiB chunks (Node's gunzip runs 3–6× faster than with the
// default 16 KiB ones). The media type decides whether a layer is accepted at all; its first bytes
// decide how it is read, as containerd's and Docker's DecompressStream do: a plain tar labelled
// +gzip, a gzip labelled plain, an empty blob of any label all unpack (the diffID is checked on what
// comes out either way, so the label never vouches for the content).
import { once } from 'node:events';
import { Duplex, PassThrough } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BerthError } from '../lib/errors.js';
import { type LayerCompression, layerCompression } from '../oci/media-types.js';
import { isContentError } from './decoder-errors.js';
import { createZstdFramesDecompressor } from './zstd-frames.js';

export const CHUNK_BYTES = 1 << 20;

/** What the first bytes of a layer say it is: gzip, a zstd frame (skippable ones too), or plain. */
export function sniffCompression(head: Buffer): LayerCompression {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.length >= 4) {
    const magic = head.readUInt32LE(0);
    if (magic === 0xfd2fb528 || (magic & 0xfffffff0) >>> 0 === 0x184d2a50) return 'zstd';
  }
  return 'none';
}

/**
 * Compressed forms no layer media type names (Docker's old archive code read them; containerd reads
 * them as a tar and fails on its first header): said by name. Whole magic numbers (bzip2's with its
 * first block's), so no plain tar's first name is mistaken for one.
 */
const FOREIGN_FORMS: Array<[string, Buffer]> = [
  ['xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
  ['bzip2', Buffer.from('BZh')],
];
const BZIP2_BLOCK = Buffer.from([0x31, 0x41, 0x59, 0x26, 0x53, 0x59]);

function refuseForeignForm(head: Buffer): void {
  for (const [name, magic] of FOREIGN_FORMS) {
    if (head.length < magic.length || !head.subarray(0, magic.length).equals(magic)) continue;
    if (
      name === 'bzip2' &&
      !(
        head[3] !== undefined &&
        head[3] >= 0x31 &&
        head[3] <= 0x39 &&
        head.subarray(4, 10).equals(BZIP2_BLOCK)
      )
    )
      continue;
    throw new BerthError(
      'ERR_LAYER_UNSUPPORTED',
      'invalid',
      `the layer is ${name}-compressed, which is no layer form (tar, gzip or zstd)`,
    );
  }
}

/**
 * The decoder's own errors said as the layer stream's (ERR_LAYER_CORRUPT, `malformed gzip stream:
 * incorrect header check`), so a layer whose bytes are bad is corrupt content, and a committed blob
 * damaged on disk is found as such (damaged-blob.ts), never an internal failure. Only the decoder's
 * refusals of the bytes (decoder-errors.ts: zlib's "incorrect header check", libzstd's "Restored data
 * doesn't match checksum"); its failures to decode at all (memory) and what the frame reader met
 * reading the source pass as they are.
 */
async function* decoderErrorsNamed(dec: Duplex, kind: 'gzip' | 'zstd'): AsyncGenerator<Buffer> {
  try {
    for await (const out of dec) yield out as Buffer;
  } catch (err) {
    if (err instanceof BerthError) throw err;
    if (!isContentError(kind, (err as { code?: unknown }).code)) throw err;
    throw new BerthError(
      'ERR_LAYER_CORRUPT',
      'integrity',
      `malformed ${kind} stream: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function decoderFor(kind: LayerCompression): Duplex {
  if (kind === 'gzip') return createGunzip({ chunkSize: CHUNK_BYTES });
  if (kind === 'zstd') return createZstdFramesDecompressor(CHUNK_BYTES);
  return new PassThrough({ highWaterMark: CHUNK_BYTES });
}

export function createDecompressor(mediaType: string): Duplex {
  if (layerCompression(mediaType) === undefined) {
    throw new BerthError(
      'ERR_MEDIA_TYPE_UNSUPPORTED',
      'invalid',
      `cannot unpack a layer of media type "${mediaType}"`,
    );
  }
  return Duplex.from(async function* (source: AsyncIterable<Buffer>) {
    const it = source[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let headBytes = 0;
    let ended = false;
    while (headBytes < 10) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      head.push(r.value);
      headBytes += r.value.length;
    }
    const first = Buffer.concat(head);
    const kind = sniffCompression(first);
    if (kind === 'none') {
      refuseForeignForm(first);
      if (first.length > 0) yield first;
      if (!ended) for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      return;
    }
    const dec = decoderFor(kind);
    const feed = (async () => {
      try {
        if (!dec.write(first)) await once(dec, 'drain');
        if (!ended) {
          for (let r = await it.next(); !r.done; r = await it.next()) {
            if (!dec.write(r.value)) await once(dec, 'drain');
          }
        }
        dec.end();
      } catch (err) {
        dec.destroy(err as Error);
      }
    })();
    yield* decoderErrorsNamed(dec, kind);
    await feed;
  });
}
