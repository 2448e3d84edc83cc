// The overlay `lowerdir=` option kept short: snapshot paths are ~90 bytes each, and mount(2) takes
// one page of options (images past ~42 layers failed), fsconfig 256 bytes per value (util-linux
// 2.39+: every image of 3+ layers). As Docker does, a directory of short symlinks stands for the
// snapshots (`0`, `1`, … top first, in the container's own directory), and the mount runs in that
// directory, so the option reads `lowerdir=0:1:2`. The kernel resolves the links once, at mount
// time. Pure option building here; the links are made by `linkLowers`.
import { mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../lib/errors.js';

/** The kernel's OVL_MAX_STACK: an overlay of more lowers is refused with mount(8)'s generic EINVAL. */
export const OVERLAY_MAX_LOWERS = 500;

/** `lowerdir=0:1:…` for `count` lowers (resolved in the links directory). */
export function shortLowerdir(count: number): string {
  if (count > OVERLAY_MAX_LOWERS)
    throw new BerthError(
      'ERR_ROOTFS_MOUNT',
      'invalid',
      `the image has ${count} layers; overlayfs stacks at most ${OVERLAY_MAX_LOWERS} (the host config's unpack.snapshotter: native has no such limit)`,
    );
  return `lowerdir=${Array.from({ length: count }, (_, i) => String(i)).join(':')}`;
}

/** (Re)make `dir` holding one symlink per lower, named by its index (top first). */
export async function linkLowers(dir: string, lowers: readonly string[]): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  for (const [i, lower] of lowers.entries()) await symlink(lower, join(dir, String(i)));
}
