// A `hostUsers: false` container's side of the user namespace: its pod's recorded ID range, the
// shifted copies of its snapshots as the overlay's lowers, and the directories the container's
// root writes (the overlay's upper, the image volumes) owned by the pod's root on the host.
//
// runc 1.1 binds the rootfs onto itself from inside the namespace, as the pod's root, which must be
// able to walk down to it; bundles are 0700 under a 0700 `containers/` (store-modes.ts). So the
// rootfs of such a container is mounted at `<root>/userns/<id>/rootfs` instead: `userns/` is
// 0711 (no listing), `<id>/` is 0710 owned by root and the pod's root group (as Docker's
// userns-remap does with its per-range directories), so only host root and that pod's root get
// through; the bundle's `rootfs` is a symlink to it, so everything else finds it where it was.
import { chmod, chown, mkdir, stat, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BerthError, errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { type IdRange, readIdRange } from './id-range.js';
import type { RuntimePaths } from './paths.js';
import { removeBundleDir } from './remove-bundle.js';
import { shiftedSnapshot } from './shift-tree.js';
import { checkUsernsHost } from './userns-host.js';

/** The range of the pod whose home is `podHome`; the pod's setup records it before any container. */
export function podIdRange(podHome: string, container: string): IdRange {
  checkUsernsHost(container);
  const range = readIdRange(podHome);
  if (!range)
    throw new BerthError(
      'ERR_USERNS_UNAVAILABLE',
      'invalid',
      `container ${container}: its pod (${podHome}) has no user namespace ID range recorded`,
    );
  return range;
}

/** The lowers (snapshot fs paths, top first) replaced by the pod's shifted copies of them. */
export async function shiftedLowers(podHome: string, lowers: string[], range: IdRange): Promise<string[]> {
  const out: string[] = [];
  for (const lower of lowers) out.push(await shiftedSnapshot(podHome, lower, range));
  return out;
}

/** Directories made for the container, owned by its root (host uid `range.base`). */
export async function ownByPodRoot(dirs: string[], range: IdRange): Promise<void> {
  for (const d of dirs) {
    await makeDirs(d);
    await chown(d, range.base, range.base);
  }
}

/** `<root>/userns/<id>`: where a hostUsers: false container's rootfs is mounted. */
export const usernsDirOf = (paths: RuntimePaths, id: string) => join(dirname(paths.containers), 'userns', id);

/**
 * Every directory from `/` down to `dir` must let others search it: the pod's root is nobody on
 * the host. Said before runc would fail with a bare "permission denied".
 */
export async function checkWalkable(dir: string): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    const mode = (await stat(d)).mode & 0o777;
    if ((mode & 0o001) === 0)
      throw new BerthError(
        'ERR_USERNS_UNAVAILABLE',
        'invalid',
        `spec.hostUsers: false: the pod's root cannot reach its rootfs under ${dir}: ${d} is mode ${mode.toString(8).padStart(4, '0')}`,
        { hint: `let others search it: chmod o+x ${d}` },
      );
    if (dirname(d) === d) return;
  }
}

/** Makes the walkable mount point, links the bundle's `rootfs` to it; the real path (runc's root.path). */
export async function usernsMountPoint(
  paths: RuntimePaths,
  id: string,
  bundleRootfs: string,
  range: IdRange,
): Promise<string> {
  const top = dirname(usernsDirOf(paths, id));
  await checkWalkable(dirname(top));
  await makeDirs(top, 0o711);
  await chmod(top, 0o711);
  const dir = usernsDirOf(paths, id);
  await mkdir(dir, 0o710);
  await chown(dir, 0, range.base);
  await chmod(dir, 0o710);
  const rootfs = join(dir, 'rootfs');
  await mkdir(rootfs, 0o700);
  await symlink(rootfs, bundleRootfs);
  return rootfs;
}

/** Its mount point's directory goes (never while mounted: removeBundleDir refuses). */
export async function removeUsernsDir(paths: RuntimePaths, id: string): Promise<void> {
  try {
    await removeBundleDir(usernsDirOf(paths, id));
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

/**
 * Everything of the container's rootfs a user namespace changes: the pod's range, the shifted
 * lowers, the upper owned by the pod's root, the walkable mount point (undone on failure).
 */
export async function prepareUsernsRootfs(
  paths: RuntimePaths,
  id: string,
  settings: { name: string; userns?: string },
  bundle: { rootfs: string; upper: string },
  lowers: string[],
  form: 'overlay' | 'native',
  undo: Array<() => Promise<void>>,
): Promise<{ range: IdRange; lowers: string[]; rootPath: string } | undefined> {
  if (!settings.userns) return undefined;
  const range = podIdRange(settings.userns, settings.name);
  const shifted = await shiftedLowers(settings.userns, lowers, range);
  if (form === 'overlay') await ownByPodRoot([bundle.upper], range);
  undo.push(() => removeUsernsDir(paths, id));
  return { range, lowers: shifted, rootPath: await usernsMountPoint(paths, id, bundle.rootfs, range) };
}
