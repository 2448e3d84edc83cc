// The error of an entry a removal may not delete (EPERM: immutable or append-only, as `chattr +i`
// by a privileged container leaves it in a volume; EACCES; EROFS: a read-only btrfs snapshot that
// could not be made writable), named by its path, with how to free it.
import { BerthError } from '../lib/errors.js';

/** ERR_REMOVE_DENIED for `path`, which could not be removed with `code` (EPERM or EACCES). */
export function removeDenied(path: string, code: string, cause: unknown): BerthError {
  if (code === 'EROFS')
    return new BerthError(
      'ERR_REMOVE_DENIED',
      'forbidden',
      `cannot remove ${path}: read-only file system (EROFS)`,
      {
        cause,
        hint: `in a read-only btrfs snapshot? btrfs property set -ts SUBVOLUME ro false (btrfs subvolume show ${path}); else a read-only mount`,
      },
    );
  const why = code === 'EPERM' ? 'operation not permitted' : 'permission denied';
  return new BerthError('ERR_REMOVE_DENIED', 'forbidden', `cannot remove ${path}: ${why} (${code})`, {
    cause,
    hint: `an immutable or append-only file? lsattr -d ${path}; chattr -i -a ${path}`,
  });
}
