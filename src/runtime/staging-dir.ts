// A bundle's staging directory (`<bundle>/subpaths`): where a create binds the host paths,
// subPaths and image volumes it checked (sub-path-mounts.ts, image-volumes.ts) for runc to bind
// into the container. It is a private mount of its own before anything is staged in it.
//
// Why: the bundle sits on the host's mounts, which are shared on a systemd host (`/` is). A mount
// made under a shared mount is propagated to every peer and slave of it, in other mount namespaces
// too (a service's PrivateTmp, another runtime's): a staged rbind of the host's `/` (a
// node-exporter's hostPath) would be copied, whole, into each of them for the length of a create,
// and a staged bind of a shared path in the copy of `/` would be propagated into it again. Under a
// private mount nothing staged is propagated. Only the directory's own (empty) bind onto itself is,
// and unmounting it is too (a umount propagates by its parent's peers, however private the mount):
// nothing is left in the other namespaces. A staged bind of a shared source is still in the
// source's peer group (a bind of a shared mount joins its group wherever it lands), so
// mountPropagation (HostToContainer, Bidirectional) works through it.
//
// Teardown makes the directory and all under it private (`--make-rprivate`: a staged copy of a
// shared mount is its source's peer, and unmounting it would unmount the source's idle submounts
// on the host too), then one `umount -R` of the directory (every staged mount under it, then itself), right
// after runc create and on every failed create; `releaseSubPathMounts` does the same for one left
// by a crash, before a bundle is removed, and for a bundle staged before the directory was a mount
// of its own (each staged mount unmounted as it is).
import { readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDirs } from '../lib/make-dirs.js';
import { readMountPoints } from '../lib/mountinfo.js';
import { runTool } from './tool.js';

/** The bundle's staging directory for subPath mounts. */
export function subPathStagingDir(bundleDir: string): string {
  return join(bundleDir, 'subpaths');
}

/**
 * The bundle's staging directory, made and mounted private on itself the first time (then it is
 * the first of `staged`, the mounts the caller undoes).
 */
export async function openStagingDir(bundleDir: string, staged: string[]): Promise<string> {
  const dir = subPathStagingDir(bundleDir);
  if (staged.includes(dir)) return dir;
  await makeDirs(dir, 0o700);
  try {
    await runTool(
      'mount',
      ['--no-canonicalize', '--bind', '--make-private', dir, dir],
      `making ${dir} private`,
      {
        code: 'ERR_SUBPATH_MOUNT',
      },
    );
  } catch (err) {
    // mount(8) binds, then makes private: a bind made before it failed is undone here (the
    // caller's undo knows only what is in `staged`).
    if ((await readMountPoints()).includes(await realpath(dir)))
      await runTool('umount', ['-l', dir], `unmounting ${dir}`).catch(() => undefined);
    throw err;
  }
  staged.push(dir);
  return dir;
}

/**
 * Unmount the staging mounts given, each with what is mounted under it (a busy one lazily): one
 * `umount -R` for a staging directory and all it holds. Throws when one stays.
 */
export async function unmountStaged(targets: string[]): Promise<void> {
  const tops = targets.filter((t) => !targets.some((o) => o !== t && t.startsWith(`${o}/`)));
  for (const t of tops.reverse()) {
    // Private first: a staged copy of a shared mount is its source's peer, and a umount propagates
    // to the mounts at the same place under its parent's peers: unmounting the copy of `/run` would
    // unmount the host's own `/run/...` mounts that nothing holds. Private, it goes alone.
    await runTool('mount', ['--make-rprivate', t], `making ${t} private before unmounting it`);
    try {
      await runTool('umount', ['-R', t], `unmounting ${t}`);
    } catch {
      await runTool('umount', ['-l', t], `unmounting ${t}`); // throws: never leave a bind for rm -r to cross
    }
  }
}

/** Unmount whatever is still mounted at or under a bundle's staging directory (left by a crash). */
export async function releaseSubPathMounts(bundleDir: string): Promise<void> {
  const dir = subPathStagingDir(bundleDir);
  const entries = await readdir(dir).catch(() => undefined);
  if (entries === undefined) return;
  const mounted = new Set(await readMountPoints());
  const real = await realpath(dir);
  if (mounted.has(real)) return unmountStaged([real]);
  await unmountStaged(entries.map((e) => join(real, e)).filter((t) => mounted.has(t)));
}
