// The runtime's own mount points in an image's rootfs (src/runtime/rootfs-checks.ts), on a real
// directory tree: a /dev that leads to the root, or into /proc or /sys (present or not), is refused
// naming the image, as a /dev that is a file is; one that leads to another directory is taken.
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkResolvedMounts } from '../../src/runtime/rootfs-checks.js';

let rootfs: string;
afterEach(async () => {
  await rm(rootfs, { recursive: true, force: true });
});

const withDev = async (target: string, dirs: string[] = []) => {
  rootfs = await mkdtemp(join(tmpdir(), 'berth-kernel-mounts-'));
  for (const d of dirs) await mkdir(join(rootfs, d), { recursive: true });
  await symlink(target, join(rootfs, 'dev'));
  return () => checkResolvedMounts(rootfs, 'example.com/odd:1', []);
};

describe('a /dev symlink in an image', () => {
  it.each([
    ['/', [], '/'],
    ['.', [], '/'],
    ['../..', [], '/'],
    ['/proc', ['proc'], '/proc'],
    ['proc/self', [], '/proc/self'],
    ['/sys/fs', ['sys/fs'], '/sys/fs'],
  ])('to %s is refused', async (target, dirs, to) => {
    const check = await withDev(target, dirs);
    expect(check).toThrow(
      `image "example.com/odd:1": /dev is a symlink to ${to} (the root, or where the kernel's file systems go) in the image, where the runtime mounts a tmpfs: it must be a directory or absent`,
    );
  });

  it.each([
    ['/srv', ['srv']],
    ['/processes', ['processes']],
    ['/system', []],
  ])('to %s is taken', async (target, dirs) => {
    const check = await withDev(target, dirs);
    expect(check).not.toThrow();
  });
});
