// The inode reserve (snapshot/inode-reserve.ts) looks again often enough that layers unpacking side
// by side, each counting on its own, cannot together take what is free between them.
import { describe, expect, it } from 'vitest';
import { INODE_CHECK_STEP, InodeReserve } from '../../src/snapshot/inode-reserve.js';

describe('InodeReserve', () => {
  it('asks statfs again at least every INODE_CHECK_STEP inodes, however many are free', () => {
    let looks = 0;
    const r = new InodeReserve('/x', 256 * 2 ** 20, () => {
      looks++;
      return { files: 2e9, ffree: 1e9 };
    });
    for (let i = 0; i < 10 * INODE_CHECK_STEP; i++) r.take(1);
    expect(looks).toBeGreaterThanOrEqual(10);
  });

  it('four appliers side by side, with the default reserve, stop before the free inodes are gone', () => {
    let ffree = 100_000; // one file system, shared by the four
    const statfs = () => ({ files: 1e6, ffree });
    const appliers = Array.from({ length: 4 }, () => new InodeReserve('/x', 256 * 2 ** 20, statfs));
    const stopped = new Set<InodeReserve>();
    while (stopped.size < appliers.length)
      for (const a of appliers) {
        if (stopped.has(a)) continue;
        try {
          a.take(1);
          ffree--;
        } catch {
          stopped.add(a);
        }
      }
    expect(ffree).toBeGreaterThan(0);
  });
});
