// Directories only root may enter (locks, the store's top level). One that exists is checked, not
// trusted: a symlink, another owner or a non-directory is refused, and a mode looser than asked
// for is tightened (bits are only ever removed), so a directory made by an older berth, or by
// anyone before us while its parent was writable, never holds something that must be private.
import { chmod, lstat, mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BerthError, errnoCode } from './errors.js';
import { makeDirs } from './make-dirs.js';

export interface PrivateDirOptions {
  /** The loosest mode allowed: 0o700 for locks, 0o711 for --root and --state. */
  mode?: number;
  /** Missing parents are made with this mode. */
  parentMode?: number;
  /** --root itself may be a symlink an administrator made (/var/lib/berth → /data/berth). */
  followSymlink?: boolean;
}

/** Make `dir` if missing, then hold it to at most `mode`, owned by this process's uid. */
export async function ensurePrivateDir(dir: string, options: PrivateDirOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o700;
  try {
    await mkdir(dir, mode);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'EEXIST') throw err;
    if (errnoCode(err) === 'ENOENT') {
      // Parents first, then once more: a second ENOENT (procfs answers it for ever) is the answer.
      await makeDirs(dirname(dir), options.parentMode ?? 0o755);
      await mkdir(dir, mode).catch((again) => {
        if (errnoCode(again) !== 'EEXIST') throw again;
      });
    }
  }
  const st = await (options.followSymlink ? stat : lstat)(dir);
  const uid = process.geteuid?.() ?? st.uid;
  if (!st.isDirectory() || st.uid !== uid) {
    const what = st.isSymbolicLink()
      ? 'a symlink'
      : st.isDirectory()
        ? `owned by uid ${st.uid}`
        : 'not a directory';
    throw new BerthError(
      'ERR_UNSAFE_DIR',
      'forbidden',
      `${dir} must be a directory owned by uid ${uid}; it is ${what}`,
      {
        // Root's store is never to be removed or given away for a user who ran berth without sudo.
        hint:
          st.isDirectory() && st.uid === 0
            ? "it is root's: run berth as root (sudo berth …), or give this user its own --root and --state"
            : 'remove it (berth makes it again) or give it to that user',
      },
    );
  }
  const bits = st.mode & 0o7777;
  if ((bits & ~mode) !== 0) await chmod(dir, bits & mode);
}
