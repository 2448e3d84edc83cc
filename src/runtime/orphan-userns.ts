// A hostUsers: false container's mount point (`<root>/userns/<id>`) that outlived its bundle.
//
// A create makes the bundle before this directory, and both a removal and a create's undo remove
// this directory before the bundle; so while a bundle exists, reapOrphans (orphans.ts) takes both
// by its id. Only a step that failed (an undo whose unmount was refused, the bundle then gone)
// leaves one without a bundle: with no live create marking its id, nothing will ever use it again.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RuntimePaths } from './paths.js';
import { releaseRootfs } from './rootfs.js';
import { removeUsernsDir, usernsDirOf } from './userns-rootfs.js';

const ID = /^[a-f0-9]{32}$/;

/**
 * Removes every `userns/<id>` whose bundle is gone and whose id no live create holds (`creating`,
 * read before this listing: a create that began since then has made its bundle before this dir).
 * Unmounts its rootfs first, so nothing is deleted through a mount.
 */
export async function reapOrphanUsernsDirs(
  paths: RuntimePaths,
  creating: ReadonlySet<string>,
): Promise<{ reaped: string[]; failed: Array<{ id: string; error: unknown }> }> {
  const out = { reaped: [] as string[], failed: [] as Array<{ id: string; error: unknown }> };
  let ids: string[];
  try {
    ids = readdirSync(join(dirname(paths.containers), 'userns'));
  } catch {
    return out;
  }
  for (const id of ids) {
    if (!ID.test(id) || creating.has(id) || existsSync(join(paths.containers, id))) continue;
    try {
      await releaseRootfs(join(usernsDirOf(paths, id), 'rootfs'));
      await removeUsernsDir(paths, id);
      out.reaped.push(id);
    } catch (error) {
      out.failed.push({ id, error });
    }
  }
  return out;
}
