// An open file read to its end, but never past a bound: the file may grow while it is read (a
// size checked before the read bounds nothing). Reads 64 KiB at a time.
import type { FileHandle } from 'node:fs/promises';

/** `fh`'s bytes from its position to the end; undefined as soon as they pass `max`. */
export async function readBounded(fh: FileHandle, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.alloc(Math.min(64 * 1024, max + 1));
    const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    total += bytesRead;
    if (total > max) return undefined;
    chunks.push(chunk.subarray(0, bytesRead));
  }
}
