// Reading one manifest file without trusting what the folder holds: anyone who can write the folder
// (a sync tool, a checkout) may leave a FIFO (a blocking open would freeze every pass), a device or a
// symlink to one (`/dev/zero` reads forever), a link into /proc or /sys (pseudo-fs.ts), or a huge
// file. Only a regular file of bounded size, on a real file system, is read: it is checked before it
// is opened, and opened for reading only through a descriptor that says it is one (open-regular.ts),
// so a swap between the two can neither run a device's open nor make a read block. What was read is
// vouched for by a later stat only as file-cache.ts vouches (the full identity, and a change time
// clearly older than the read: a same-size rewrite within one tick of the file system's clock is
// read again).
import { statSync } from 'node:fs';
import { BerthError } from '../lib/errors.js';
import type { FileIdentity } from '../lib/file-cache.js';
import { openRegular } from '../lib/open-regular.js';
import { readBounded } from '../lib/read-bounded.js';
import { decodeManifestText } from './decode-text.js';
import { pseudoFileSystemOf } from './pseudo-fs.js';

/** Far above any real manifest (Kubernetes keeps an object under 1.5 MiB in etcd). */
export const MAX_MANIFEST_BYTES = 4 * 2 ** 20;

export interface ManifestFileStat {
  size: number;
  mtimeMs: number;
  /** Device, inode, size, mtime and ctime (ns): what a cached text is checked against. */
  id: FileIdentity;
  /** Who may write it (writers.ts). */
  uid: number;
  gid: number;
  mode: number;
}

type BigStat = {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  uid: bigint;
  gid: bigint;
  mode: bigint;
};

function statOf(st: BigStat): ManifestFileStat {
  return {
    size: Number(st.size),
    // As a number stat gives it (the settle rule compares it with what `fs.stat` says).
    mtimeMs: Number(st.mtimeNs / 1_000_000_000n) * 1e3 + Number(st.mtimeNs % 1_000_000_000n) / 1e6,
    id: { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs },
    uid: Number(st.uid),
    gid: Number(st.gid),
    mode: Number(st.mode),
  };
}

/** The reason alone: the caller's diagnostic names the file. */
function refuse(why: string): BerthError {
  return new BerthError('ERR_MANIFEST_UNREADABLE', 'invalid', why);
}

/**
 * The file's stat, and its text unless `known(id)` says the text for that identity is already at
 * hand (`readAt`: the wall clock, ms, before the stat that vouches for the text returned). Throws
 * ERR_MANIFEST_UNREADABLE for anything but a regular file of at most MAX_MANIFEST_BYTES,
 * ManifestEncodingError for bytes that are not text (decode-text.ts), and the errno error when it
 * cannot be opened.
 */
export async function readManifestFile(
  file: string,
  known: (id: FileIdentity) => boolean = () => false,
): Promise<{ stat: ManifestFileStat; text?: string; readAt: number }> {
  const readAt = Date.now();
  // Not even opened unless it is a regular file: opening some devices acts (a watchdog, a tape).
  // Synchronous: the daemon stats every file every pass, and a stat never blocks on what it names.
  const before = statSync(file, { bigint: true });
  if (!before.isFile()) throw refuse('not a regular file');
  if (before.size <= BigInt(MAX_MANIFEST_BYTES)) {
    // Unchanged since it was last read (the daemon's passes): no need to open it at all.
    const seen = statOf(before);
    if (known(seen.id)) return { stat: seen, readAt };
  }
  // Opened for reading only once its descriptor says it is a regular file (open-regular.ts): a link
  // swapped to a device since the stat above never runs the device's open.
  const opened = await openRegular(file, {
    check: (_st, at) => {
      // Asked only of a file about to be opened: a text once read is never one of these.
      const pseudo = pseudoFileSystemOf(at);
      if (pseudo) throw refuse(`a file of ${pseudo}, made as it is read: not a manifest`);
      return true;
    },
  });
  if (!opened.handle) throw refuse('not a regular file');
  const fh = opened.handle;
  try {
    const st = opened.stat;
    // Swapped between the checks and the open: only for another file of the same file system.
    if (st.dev !== before.dev) throw refuse('replaced while it was opened');
    if (st.size > BigInt(MAX_MANIFEST_BYTES)) throw refuse(`larger than ${MAX_MANIFEST_BYTES} bytes`);
    const stat = statOf(st);
    if (known(stat.id)) return { stat, readAt };
    const bytes = await readBounded(fh, MAX_MANIFEST_BYTES); // it may grow while it is read
    if (!bytes) throw refuse(`larger than ${MAX_MANIFEST_BYTES} bytes`);
    return { stat, text: decodeManifestText(bytes), readAt };
  } finally {
    await fh.close();
  }
}
