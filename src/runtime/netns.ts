// A network namespace of its own, kept as a file under the state dir (bind-mounted by unshare),
// with loopback up. Containers join it by path; it goes away with its container (or pod).
import { rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeDirs } from '../lib/make-dirs.js';
import { isMountPoint } from './rootfs.js';
import { runTool } from './tool.js';

export async function createNetns(path: string): Promise<void> {
  await makeDirs(dirname(path));
  await writeFile(path, '', { flag: 'wx' });
  try {
    await runTool('unshare', [`--net=${path}`, 'ip', 'link', 'set', 'lo', 'up'], `creating netns ${path}`, {
      code: 'ERR_NETNS',
    });
  } catch (err) {
    await removeNetns(path);
    throw err;
  }
}

export async function removeNetns(path: string): Promise<void> {
  // Mounts stacked on one path (two creators that raced) come off one at a time.
  for (let i = 0; i < 8 && (await isMountPoint(path)); i++)
    await runTool('umount', [path], `removing netns ${path}`, { code: 'ERR_NETNS' });
  await rm(path, { force: true });
}
