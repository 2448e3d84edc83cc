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
// stats the directory and makes the one returned.
import { join } from 'node:path';

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
