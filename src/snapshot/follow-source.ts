// Reading a layer blob while it downloads: the ingest file is read as its bytes land (the writer
// publishes how many are written, see content/ingest-progress.ts), in 1 MiB chunks, and the
// stream ends only once the blob's size and digest were verified and it was committed; a failed
// download ends it with ERR_INGEST_FAILED. A download that starts over rewrites the same bytes, so
// the follower just waits for them (see content/ingest-progress.ts).
import { closeSync, openSync, readSync } from 'node:fs';
import { IngestState, ProgressReader } from '../content/ingest-progress.js';
import { BerthError, errnoCode } from '../lib/errors.js';
import { CHUNK_BYTES } from './decompress.js';

export interface FollowedBlob {
  /** The ingest file being written. */
  path: string;
  /** Where it is once committed (a follower that opens late finds it there). */
  blobPath: string;
  progress: SharedArrayBuffer;
  size: number;
  digest: string;
}

function openEither(f: FollowedBlob): number {
  try {
    return openSync(f.path, 'r');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  try {
    return openSync(f.blobPath, 'r');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    return -1;
  }
}

export async function* followBlob(f: FollowedBlob): AsyncGenerator<Buffer> {
  const progress = new ProgressReader(f.progress);
  const fd = openEither(f);
  try {
    let pos = 0;
    for (;;) {
      const seen = progress.read();
      if (seen.state === IngestState.Failed || fd < 0) {
        throw new BerthError('ERR_INGEST_FAILED', 'internal', `blob ${f.digest}: download did not complete`);
      }
      const committed = seen.state === IngestState.Committed;
      // Once committed, every byte is there; before that, only what the writer published.
      const available = committed ? f.size : seen.written;
      if (pos < available) {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, available - pos));
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n > 0) {
          pos += n;
          yield n === buf.length ? buf : buf.subarray(0, n);
          continue;
        }
        // The download started over under us (truncated): wait until the bytes are back.
        if (committed) throw new BerthError('ERR_INGEST_FAILED', 'internal', `blob ${f.digest}: file shrank`);
      } else if (committed) {
        return;
      }
      await progress.changed(seen.seq);
    }
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
