// Opening for reading a file someone else may have put there (an entry of the manifests folder, or
// what a link there names), where only a regular file is ever wanted. Opening a device node runs its
// driver's `open`, and that acts whatever is read after it: /dev/watchdog arms the host's watchdog
// (closed without its magic character, the host reboots), a tape rewinds, a terminal opened without
// O_NOCTTY becomes the controlling terminal of a daemon that has none. So the path is first opened
// O_PATH (no driver runs, no FIFO waits), its type read with fstat, and only a regular file is opened
// for reading, through that descriptor (`/proc/self/fd/N`): what is read is the inode checked, even
// if the path names something else by then.

import type { BigIntStats } from 'node:fs';
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { O_PATH } from './o-path.js';

export interface OpenRegularOptions {
  /** A symbolic link at `path` is not followed (it is then what is found: not a regular file). */
  noFollow?: boolean;
  /**
   * Asked of a regular file before it is opened for reading, with a path naming exactly it (its
   * O_PATH descriptor's): throws to refuse it (a file of /proc), false when it need not be read
   * (too large, or its text already at hand).
   */
  check?: (stat: BigIntStats, at: string) => boolean | undefined;
}

/**
 * `path` open for reading (non-blocking) when it is a regular file the check wants read; else only
 * what it is (no `handle`).
 */
export async function openRegular(
  path: string,
  o: OpenRegularOptions = {},
): Promise<{ stat: BigIntStats; handle?: FileHandle }> {
  const where = await open(path, O_PATH | (o.noFollow ? constants.O_NOFOLLOW : 0));
  try {
    const stat = await where.stat({ bigint: true });
    if (!stat.isFile()) return { stat };
    const at = `/proc/self/fd/${where.fd}`;
    if (o.check?.(stat, at) === false) return { stat };
    const handle = await open(at, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    return { stat, handle };
  } finally {
    await where.close();
  }
}
