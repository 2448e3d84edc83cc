// Where an image config's `Volumes` become anonymous volumes of a container, checked before any is
// made: the image is untrusted, and runc would only say "mount failed" with no word of the image.
// Pure for the paths (imageVolumePaths); checkVolumeInRoot looks at what the image has there.
import { lstatSync } from 'node:fs';
import { BerthError } from '../lib/errors.js';
import type { ImageConfig } from '../oci/image.js';
import { followInRoot } from './rootfs.js';
import { cleanContainerPath } from './spec.js';

/**
 * The files berth binds into every container itself. An image volume on one is left out and
 * berth's file stays, as a CRI runtime leaves out an image volume where the kubelet mounts one:
 * the image cannot take the container's name resolution away.
 */
const MANAGED_FILES = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);

/** Kernel file systems the runtime mounts itself: runc refuses a bind over what is in them. */
const KERNEL_FS = new Set(['proc', 'sys']);

export function imageVolumeError(image: string, path: string, why: string): BerthError {
  return new BerthError(
    'ERR_IMAGE_VOLUME_INVALID',
    'invalid',
    `image "${image}": config.Volumes "${path}" ${why}`,
  );
}

/**
 * The image's volume destinations, cleaned and each once, without berth's own files and those a
 * mount of the container covers (`taken`: its destinations), as Docker skips them; one berth cannot
 * mount (relative, the root itself, in /proc or /sys) is refused naming it.
 */
export function imageVolumePaths(config: ImageConfig, image: string, taken: string[] = []): string[] {
  const covered = new Set([...MANAGED_FILES, ...taken.map(cleanContainerPath)]);
  const out = new Set<string>();
  for (const path of Object.keys(config.config?.Volumes ?? {})) {
    if (!path.startsWith('/')) throw imageVolumeError(image, path, 'is not an absolute path');
    const dest = cleanContainerPath(path); // `/data/`, `/./data` and `/srv/../data` are `/data`
    if (dest === '/') throw imageVolumeError(image, path, 'is the root directory');
    const top = dest.split('/')[1] ?? '';
    if (KERNEL_FS.has(top))
      throw imageVolumeError(image, path, `is in /${top}, a kernel file system the runtime mounts itself`);
    if (!covered.has(dest)) out.add(dest);
  }
  return [...out];
}

/**
 * A volume is a directory: where the image has something else (its symlinks followed inside the
 * rootfs), it is refused, as Docker refuses it ("cannot mount volume over existing file").
 */
export function checkVolumeInRoot(rootfs: string, dest: string, image: string): void {
  const host = followInRoot(rootfs, dest);
  if (host === undefined) throw imageVolumeError(image, dest, 'has too many symbolic links in the image');
  let isDir = true;
  try {
    isDir = lstatSync(host).isDirectory();
  } catch {
    // not in the image: made empty
  }
  if (!isDir) {
    const inside = host.slice(rootfs.length) || '/';
    const where = inside === dest ? '' : ` (it leads to ${inside})`;
    throw imageVolumeError(image, dest, `is not a directory in the image${where}: a volume is one`);
  }
}
