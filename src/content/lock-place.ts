// Where a lock file lives. node:sqlite (lock.ts) opens a file only while its path, every symlink
// resolved, stays within SQLite's unix VFS bound (mxPathname 512, less what it keeps for its own
// suffixes: measured, 504 bytes open and 505 fail 'unable to open database file'), so a --root or
// --state deeper than some 480 bytes could take no lock at all: every pull, create and prune was
// ERR_LOCK_FILE with a hint to remove a file that was never there. A lock whose resolved path
// passes the bound lives in LONG_LOCKS_DIR/<device>-<inode of its locks directory>/ instead: the
// same place for every berth naming that directory, however spelt (a symlink, a bind mount of the
// root elsewhere: a path would differ there), and never a place an older berth could have held the
// lock in (it could not lock there at all), so old and new berths still exclude each other. A berth
// in another mount namespace with a /run of its own is not excluded. Pure: the caller resolves and
// stats the directory and makes the one returned; a directory it cannot make is a coded error
// naming it (longLocksDirError).
import { join } from 'node:path';
import { BerthError, errnoCode, isBerthError, readOnlyError } from '../lib/errors.js';

/** The longest lock file path SQLite's unix VFS opens (bytes, symlinks resolved). */
export const SQLITE_PATH_MAX = 504;

/** Root-only, host-wide, emptied at boot as the locks themselves are (POSIX locks die with their holder). */
export const LONG_LOCKS_DIR = '/run/berth-locks';

/**
 * The directory holding the lock `<purpose>.lock` of a locks directory whose resolved path is
 * `resolved` and identity (`<dev>-<ino>`) `identity`: that directory itself, or one under
 * `longDir` when the file's path would pass the bound.
 */
export function lockDirFor(
  resolved: string,
  identity: string,
  purpose: string,
  longDir = LONG_LOCKS_DIR,
): string {
  const file = join(resolved, `${purpose}.lock`);
  if (Buffer.byteLength(file) <= SQLITE_PATH_MAX) return resolved;
  return join(longDir, identity);
}

/**
 * Why the long-locks directory `dir` of `root` could not be made, coded and naming it: a full file
 * system (ERR_NO_SPACE), a read-only one (ERR_READ_ONLY), or one this process may not write, a
 * user's berth in root's /run (ERR_LOCK_DIR, forbidden). A BerthError (a directory there that is not
 * berth's: ERR_UNSAFE_DIR) is itself.
 */
export function longLocksDirError(dir: string, root: string, err: unknown): BerthError {
  if (isBerthError(err)) return err;
  const code = errnoCode(err) ?? String(err);
  const why = `it would hold the locks of ${root}, too deep for SQLite to open a file in`;
  if (code === 'EROFS') return readOnlyError(dir, err);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    const message = `cannot make ${dir}: the file system is full (${code}); ${why}`;
    return new BerthError('ERR_NO_SPACE', 'limit', message, { cause: err });
  }
  const denied = code === 'EACCES' || code === 'EPERM';
  const hint = 'run berth as root, or give it a shallower --root and --state (under some 480 bytes)';
  return new BerthError(
    'ERR_LOCK_DIR',
    denied ? 'forbidden' : 'internal',
    `cannot make ${dir} (${code}); ${why}`,
    {
      cause: err,
      ...(denied ? { hint } : {}),
    },
  );
}
