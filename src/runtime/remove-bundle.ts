// Recursive removal of a container's bundle directory, refused while anything is mounted under it:
// `rm -r` crosses mount points, so a bind of a volume (a subPath staging point, an overlay rootfs
// whose unmount failed) left under the bundle would have the volume's files deleted with it.
import { realpath, rm } from 'node:fs/promises';
import { BerthError, errnoCode } from '../lib/errors.js';
import { mountsUnder, readMountPoints } from '../lib/mountinfo.js';
import { removeFailure } from './remove-denied.js';

/** Remove `dir` recursively; ERR_BUNDLE_BUSY (nothing deleted) if a mount point is at or under it. */
export async function removeBundleDir(dir: string, readMounts = readMountPoints): Promise<void> {
  let resolved: string;
  try {
    resolved = await realpath(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  const mounts = await readMounts();
  const busy = [...mounts.filter((m) => m === resolved), ...mountsUnder(mounts, resolved)];
  if (busy.length > 0)
    throw new BerthError(
      'ERR_BUNDLE_BUSY',
      'conflict',
      `not removing ${dir}: ${busy[0]} is still mounted under it${busy.length > 1 ? ` (and ${busy.length - 1} more)` : ''}`,
      { hint: `unmount it (umount ${busy[0]}) and remove the container again` },
    );
  // A monitor killed just before may still finish a write under it (conmon's persist/exit): a
  // directory that filled again meanwhile (ENOTEMPTY) is emptied again.
  try {
    await rm(resolved, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  } catch (err) {
    throw await removeFailure(err);
  }
}
