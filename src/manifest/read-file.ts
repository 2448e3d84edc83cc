// Reading one manifest file without trusting what the folder holds: anyone who can write the folder
// (a sync tool, a checkout) may leave a FIFO (a blocking open would freeze every pass), a device or a
// symlink to one (`/dev/zero` reads forever), or a huge file. Only a regular file of bounded size is
// read: it is checked before it is opened, opened non-blocking, and checked again on the descriptor,
// so a swap between the two cannot make a read block.
import { constants, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { BerthError } from '../lib/errors.js';

/** Far above any real manifest (Kubernetes keeps an object under 1.5 MiB in etcd). */
export const MAX_MANIFEST_BYTES = 4 * 2 ** 20;

export interface ManifestFileStat {
  size: number;
  mtimeMs: number;
  /** Changes with the content as far as the folder can tell: size, mtime, inode. */
  key: string;
}

function statOf(st: { size: number; mtimeMs: number; ino: number }): ManifestFileStat {
  return { size: st.size, mtimeMs: st.mtimeMs, key: `${st.size}:${st.mtimeMs}:${st.ino}` };
}

/** The reason alone: the caller's diagnostic names the file. */
function refuse(why: string): BerthError {
  return new BerthError('ERR_MANIFEST_UNREADABLE', 'invalid', why);
}

/**
 * The file's stat, and its text unless `known(key)` says the text for that key is already at hand.
 * Throws ERR_MANIFEST_UNREADABLE for anything but a regular file of at most MAX_MANIFEST_BYTES, and
 * the errno error when it cannot be opened.
 */
export async function readManifestFile(
  file: string,
  known: (key: string) => boolean = () => false,
): Promise<{ stat: ManifestFileStat; text?: string }> {
  // Not even opened unless it is a regular file: opening some devices acts (a watchdog, a tape).
  // Synchronous: the daemon stats every file every pass, and a stat never blocks on what it names.
  const before = statSync(file);
  if (!before.isFile()) throw refuse('not a regular file');
  if (before.size <= MAX_MANIFEST_BYTES) {
    // Unchanged since it was last read (the daemon's passes): no need to open it at all.
    const seen = statOf(before);
    if (known(seen.key)) return { stat: seen };
  }
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw refuse('not a regular file');
    if (st.size > MAX_MANIFEST_BYTES) throw refuse(`larger than ${MAX_MANIFEST_BYTES} bytes`);
    const stat = statOf(st);
    if (known(stat.key)) return { stat };
    // To the end, but never past the bound: the file may grow while it is read.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > MAX_MANIFEST_BYTES) throw refuse(`larger than ${MAX_MANIFEST_BYTES} bytes`);
      chunks.push(chunk.subarray(0, bytesRead));
    }
    return { stat, text: Buffer.concat(chunks, total).toString('utf8') };
  } finally {
    await fh.close();
  }
}
