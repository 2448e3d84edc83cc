// Why a recursive removal failed, said of the entry at fault. Node's `rm` hides it: a file it may not
// unlink (EPERM: immutable or append-only, as `chattr +i` by a privileged container leaves it in a
// volume) is taken for a directory, and the error thrown is the ENOTDIR of a scandir of that file.
// The file is tried once more by itself to learn the real errno.
import { lstat, unlink } from 'node:fs/promises';
import { BerthError, errnoCode } from '../lib/errors.js';

const DENIED = new Set(['EPERM', 'EACCES']);

/** The error a failed `rm -r` of a tree should be reported as: ERR_REMOVE_DENIED naming the entry, or `err` itself. */
export async function removeFailure(err: unknown): Promise<unknown> {
  const path = (err as NodeJS.ErrnoException | undefined)?.path;
  let code = errnoCode(err);
  if (!path) return err;
  if (code === 'ENOTDIR') {
    const st = await lstat(path).catch(() => undefined);
    if (!st || st.isDirectory()) return err;
    // Removed now (the tree changed meanwhile): the caller's next attempt goes on.
    code = await unlink(path).then(
      () => undefined,
      (e: unknown) => errnoCode(e),
    );
  }
  if (!code || !DENIED.has(code)) return err;
  const why = code === 'EPERM' ? 'operation not permitted' : 'permission denied';
  return new BerthError('ERR_REMOVE_DENIED', 'forbidden', `cannot remove ${path}: ${why} (${code})`, {
    cause: err,
    hint: `an immutable or append-only file? lsattr -d ${path}; chattr -i -a ${path}`,
  });
}
