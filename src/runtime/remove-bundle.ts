// Recursive removal of a container's bundle directory, refused while anything is mounted under it:
// `rm -r` crosses mount points, so a bind of a volume (a subPath staging point, an overlay rootfs
// whose unmount failed) left under the bundle would have the volume's files deleted with it. The
// removal itself is remove-tree.ts's: no link a container planted is followed.
import { realpath } from 'node:fs/promises';
import { BerthError, errnoCode } from '../lib/errors.js';
import { mountsUnder, readMountPoints } from '../lib/mountinfo.js';
import { removeTree } from './remove-tree.js';

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
  // A container may still write in its volumes or upper dir meanwhile: nothing it links is followed,
  // and a directory that fills again (conmon's persist/exit as it is killed) is emptied again.
  await removeTree(resolved);
}
