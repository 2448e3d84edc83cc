// Image volumes (Kubernetes' `volumes[].image`): an image's files, read-only, in a container. The
// image is looked up in the store when the container is created and mounted at a staging point of
// its bundle (`<bundle>/subpaths/image-<i>`, so it is released like a subPath's staging mount right
// after `runc create`, and after a crash): an overlay of its snapshots with no upper directory —
// read-only by nature — or, for one layer or native snapshots (a whole tree each), a read-only bind
// of the top snapshot. runc then binds the staging point, so a subPath can be taken inside it too.
// The container's record lists the image's snapshots with its rootfs's, so image prune keeps them
// while the container exists.
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContentStore } from '../content/types.js';
import { describeImage, findImage } from '../images/index.js';
import { BerthError } from '../lib/errors.js';
import type { Digest } from '../oci/digest.js';
import { chainIds } from '../snapshot/chain.js';
import type { SnapshotStore } from '../snapshot/snapshot-store.js';
import { MOUNT2_ENV, shortLowerdir } from './lower-links.js';
import type { ContainerMount } from './spec.js';
import { openStagingDir } from './staging-dir.js';
import { runTool } from './tool.js';

export interface StagedImageVolumes {
  /** The mounts, image ones now read-only binds of their staging points. */
  mounts: ContainerMount[];
  /** Snapshots the image volumes stand on. */
  chainIds: Digest[];
}

/** The snapshot directories of an unpacked image in the store, top first. */
async function imageLowers(
  store: ContentStore,
  snapshots: SnapshotStore,
  ref: string,
): Promise<{ ids: Digest[]; lowers: string[] }> {
  const image = await describeImage(store, await findImage(store, ref));
  const ids = chainIds(image.config.rootfs.diff_ids);
  for (const id of ids)
    if (!(await snapshots.get(id)))
      throw new BerthError('ERR_IMAGE_NOT_UNPACKED', 'invalid', `image volume "${ref}" is not unpacked`);
  const top = snapshots.form === 'native' ? ids.slice(-1) : [...ids].reverse();
  return { ids, lowers: top.map((id) => snapshots.fsPath(id)) };
}

/** Mount an image's lowers read-only at `target` (made here). */
async function mountImage(lowers: string[], target: string): Promise<void> {
  await mkdir(target, 0o700);
  if (lowers.length <= 1) {
    // An image of no layers is an empty directory (overlayfs takes no mount without a lower).
    const source = lowers[0] ?? `${target}.empty`;
    if (lowers.length === 0) await mkdir(source, 0o755);
    await runTool('mount', ['--no-canonicalize', '-o', 'bind,ro', source, target], `mounting ${target}`, {
      code: 'ERR_IMAGE_VOLUME_MOUNT',
    });
    return;
  }
  // Short lowerdir names, as for a rootfs (lower-links.ts): the mount runs in the links' directory.
  const lowerdir = shortLowerdir(lowers.length);
  const links = `${target}.lower`;
  await mkdir(links, 0o700);
  for (const [i, lower] of lowers.entries()) await symlink(lower, join(links, String(i)));
  await runTool('mount', ['-t', 'overlay', 'overlay', '-o', `ro,${lowerdir}`, target], `mounting ${target}`, {
    code: 'ERR_IMAGE_VOLUME_MOUNT',
    cwd: links,
    env: { ...MOUNT2_ENV },
  });
}

/**
 * Every `image` mount resolved and staged; `staged` gets each staging path once mounted (the
 * caller unmounts them after runc create, or on failure).
 */
export async function stageImageVolumes(
  mounts: ContainerMount[],
  images: { store: ContentStore; snapshots: SnapshotStore },
  bundleDir: string,
  staged: string[],
): Promise<StagedImageVolumes> {
  const out: ContainerMount[] = [];
  const ids = new Set<Digest>();
  for (const [i, m] of mounts.entries()) {
    if (m.kind !== 'image') {
      out.push(m);
      continue;
    }
    const found = await imageLowers(images.store, images.snapshots, m.source);
    for (const id of found.ids) ids.add(id);
    const target = join(await openStagingDir(bundleDir, staged), `image-${i}`);
    await mountImage(found.lowers, target);
    staged.push(target);
    out.push({ ...m, kind: 'bind', source: target, readOnly: true });
  }
  return { mounts: out, chainIds: [...ids] };
}
