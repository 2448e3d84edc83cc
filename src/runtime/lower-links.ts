// The overlay mount options kept short: snapshot paths are ~90 bytes each, and mount(2) takes
// one page of options (images past ~42 layers failed), fsconfig 256 bytes per value (util-linux
// 2.39+: every image of 3+ layers). As Docker does, a directory of short symlinks stands for the
// snapshots (`0`, `1`, … top first, in the container's own directory), and the mount runs in that
// directory, so the option reads `lowerdir=0:1:2`. The kernel resolves the links once, at mount
// time. Short names still pass 255 bytes at 90 lowers (`0:1:…:89`), so `mount` is also told to
// make the one mount(2) of older util-linux (MOUNT2_ENV), whose page holds all 500 (~1.9 KB).
// The upper and work directories sit beside the links' directory and are named from it too
// (`upperdir=../upper,workdir=../work`, resolved by the kernel against the mount's working
// directory as the lowers are): as full paths they grew with --root, and 500 lowers beside two
// paths of a ~1 KB --root passed the page (the kernel copies one page: the mount was refused).
// Relative, the options stay under 2 KB for any --root.
// Pure option building here; the links are made by `linkLowers`.
import { mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../lib/errors.js';

/** The kernel's OVL_MAX_STACK: an overlay of more lowers is refused with mount(8)'s generic EINVAL. */
export const OVERLAY_MAX_LOWERS = 500;

/**
 * The environment for `mount -t overlay`: util-linux 2.39+ hands each option to the kernel as an
 * fsconfig(2) string, which it refuses past 255 bytes (fs/fsopen.c; util-linux#2287, still open),
 * so an image of 90+ layers failed there with mount's 'wrong fs type, bad option'. The variable
 * (mount(8), libmount 2.39+) makes libmount use mount(2); older versions ignore it.
 */
export const MOUNT2_ENV: Readonly<Record<string, string>> = { LIBMOUNT_FORCE_MOUNT2: 'always' };

/** `lowerdir=0:1:…` for `count` lowers (resolved in the links directory). */
export function shortLowerdir(count: number): string {
  if (count > OVERLAY_MAX_LOWERS)
    throw new BerthError(
      'ERR_ROOTFS_MOUNT',
      'invalid',
      `the image has ${count} layers; overlayfs stacks at most ${OVERLAY_MAX_LOWERS} (pulled before berth refused such images: remove it with berth image rm)`,
    );
  return `lowerdir=${Array.from({ length: count }, (_, i) => String(i)).join(':')}`;
}

/**
 * The options of a rootfs overlay of `count` lowers, mounted in the links' directory `lower/`, its
 * upper and work directories beside it (`<container>/upper`, `<container>/work`, runtime/rootfs.ts).
 */
export function overlayOptions(count: number): string {
  return `${shortLowerdir(count)},upperdir=../upper,workdir=../work`;
}

/** (Re)make `dir` holding one symlink per lower, named by its index (top first). */
export async function linkLowers(dir: string, lowers: readonly string[]): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  for (const [i, lower] of lowers.entries()) await symlink(lower, join(dir, String(i)));
}
