import { describe, expect, it } from 'vitest';
import { LONG_LOCKS_DIR, lockDirFor, SQLITE_PATH_MAX } from '../../src/content/lock-place.js';

/** A locks directory whose `<purpose>.lock` is `length` bytes long. */
const locksOf = (length: number, purpose: string) =>
  `/${'r'.repeat(length - `/locks/${purpose}.lock`.length - 1)}/locks`;

describe('where a lock file lives', () => {
  it('in its own locks directory while SQLite opens the path (504 bytes, measured)', () => {
    expect(SQLITE_PATH_MAX).toBe(504);
    expect(lockDirFor('/var/lib/berth/locks', '2049-12', 'store')).toBe('/var/lib/berth/locks');
    const at = locksOf(504, 'store');
    expect(`${at}/store.lock`).toHaveLength(504);
    expect(lockDirFor(at, '2049-12', 'store')).toBe(at);
  });

  it("past it, in the long-locks place under the locks directory's device and inode", () => {
    const at = locksOf(505, 'store');
    expect(lockDirFor(at, '2049-12', 'store')).toBe(`${LONG_LOCKS_DIR}/2049-12`);
    expect(lockDirFor(at, '2049-12', 'store', '/t/long')).toBe('/t/long/2049-12');
    // The bound is the file's: a shorter purpose of that root fits where store did not, a longer one not.
    expect(lockDirFor(locksOf(505, 'store'), '2049-12', 'logs')).toBe(locksOf(505, 'store'));
    expect(lockDirFor(locksOf(505, 'store'), '2049-12', 'reconcile')).toBe(`${LONG_LOCKS_DIR}/2049-12`);
  });

  it('counts bytes, not characters', () => {
    const at = `/${'é'.repeat(250)}/locks`; // 268 characters in all, 518 bytes with /store.lock
    expect(lockDirFor(at, '2049-12', 'store').startsWith(`${LONG_LOCKS_DIR}/`)).toBe(true);
  });
});
