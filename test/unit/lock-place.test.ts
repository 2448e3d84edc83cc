import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LONG_LOCKS_DIR, lockDirFor, SQLITE_PATH_MAX } from '../../src/content/lock-place.js';

/** A locks directory whose `<purpose>.lock` is `length` bytes long. */
const locksOf = (length: number, purpose: string) =>
  `/${'r'.repeat(length - `/locks/${purpose}.lock`.length - 1)}/locks`;

describe('where a lock file lives', () => {
  it('in its own locks directory while SQLite opens the path (504 bytes, measured)', () => {
    expect(SQLITE_PATH_MAX).toBe(504);
    expect(lockDirFor('/var/lib/berth/locks', 'store')).toBe('/var/lib/berth/locks');
    const at = locksOf(504, 'store');
    expect(`${at}/store.lock`).toHaveLength(504);
    expect(lockDirFor(at, 'store')).toBe(at);
  });

  it('past it, in the long-locks place under the hash of the resolved locks directory', () => {
    const at = locksOf(505, 'store');
    const hash = createHash('sha256').update(at).digest('hex');
    expect(lockDirFor(at, 'store')).toBe(`${LONG_LOCKS_DIR}/${hash}`);
    expect(lockDirFor(at, 'store', '/t/long')).toBe(`/t/long/${hash}`);
    // The bound is the file's: a shorter purpose of that root fits where store did not, a longer one not.
    expect(lockDirFor(locksOf(505, 'store'), 'logs')).toBe(locksOf(505, 'store'));
    expect(lockDirFor(locksOf(505, 'store'), 'reconcile')).toBe(`${LONG_LOCKS_DIR}/${hash}`);
  });

  it('counts bytes, not characters', () => {
    const at = `/${'é'.repeat(250)}/locks`; // 268 characters in all, 518 bytes with /store.lock
    expect(lockDirFor(at, 'store').startsWith(`${LONG_LOCKS_DIR}/`)).toBe(true);
  });
});
