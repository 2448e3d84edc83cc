// Free inodes kept on the destination's file system while a layer is applied. A layer of empty
// files or directories (a 512-byte header each: a few KiB of gzip per thousand) takes no space the
// byte reserve would notice, but every inode of the file system holding --root (often the host's
// /): until the unpack failed, journald, the daemon's own state and every other writer there got
// ENOSPC. The reserve is what unpack.reserveBytes holds on ext4 by default (an inode per 16 KiB);
// reserveBytes 0 turns it off with the byte reserve.
//
// Checked by the applier, where inodes are made (the reading thread runs ahead of it): each entry
// counts as many inodes as its path has parts (itself and the parents it may make), and statfs is
// asked again before half of what was free above the reserve could be used up, and at least every
// INODE_CHECK_STEP inodes: layers unpack side by side, each with its own count, and a step of half
// the free inodes each would let four of them take twice what is free between them.
import { statfsSync } from 'node:fs';
import { BerthError } from '../lib/errors.js';

/** ext4's default bytes-per-inode ratio (mke2fs.conf inode_ratio). */
export const BYTES_PER_RESERVED_INODE = 16 * 1024;

/** The most inodes an applier takes between two looks (16 layers side by side: the default reserve). */
export const INODE_CHECK_STEP = 1024;

export class InodeReserve {
  private counted = 0;
  private nextCheck = 0;
  private readonly reserve: number;

  constructor(
    private readonly dir: string,
    reserveBytes: number,
    private readonly statfs: (dir: string) => { files: number; ffree: number } = statfsSync,
  ) {
    this.reserve = Math.ceil(reserveBytes / BYTES_PER_RESERVED_INODE);
  }

  /** Before an entry that may make up to `count` inodes: ERR_NO_SPACE if that could eat into the reserve. */
  take(count: number): void {
    this.counted += count;
    if (this.reserve === 0 || this.counted < this.nextCheck) return;
    const s = this.statfs(this.dir);
    if (s.files === 0) {
      this.nextCheck = Number.POSITIVE_INFINITY; // a file system without an inode count (btrfs reports none)
      return;
    }
    const above = s.ffree - count - this.reserve;
    if (above < 0)
      throw new BerthError(
        'ERR_NO_SPACE',
        'limit',
        `only ${s.ffree} inodes free on the destination, below the reserve of ${this.reserve} (one per ${BYTES_PER_RESERVED_INODE / 1024} KiB of unpack.reserveBytes)`,
        { hint: 'free inodes on the file system of --root, or lower unpack.reserveBytes in the host config' },
      );
    this.nextCheck = this.counted + Math.max(1, Math.min(INODE_CHECK_STEP, Math.floor(above / 2)));
  }
}
