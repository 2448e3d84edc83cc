// A network namespace of its own, kept as a file under the state dir (bind-mounted), with loopback
// up. Containers join it by path; it goes away with its container (or pod). Where a spawn helper
// is in use (the daemon, `container run`) the helper makes it itself, with no
// process started (spawn-helper-script.ts); otherwise `unshare --net=PATH ip link set lo up`, two
// programs, makes the same.
import { rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BerthError } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { isMountPoint } from './rootfs.js';
import { runTool, spawnHelperInUse } from './tool.js';

export async function createNetns(path: string): Promise<void> {
  await makeDirs(dirname(path));
  await writeFile(path, '', { flag: 'wx' });
  const what = `creating netns ${path}`;
  try {
    const helper = spawnHelperInUse();
    if (helper) {
      await helper.makeNetns(path).catch((err: Error) => {
        throw new BerthError('ERR_NETNS', 'internal', `${what}: ${err.message}`, { cause: err });
      });
    } else {
      await runTool('unshare', [`--net=${path}`, 'ip', 'link', 'set', 'lo', 'up'], what, {
        code: 'ERR_NETNS',
      });
    }
  } catch (err) {
    // The create's own error is the one to tell; what this leaves, the next pass removes.
    await removeNetns(path).catch(() => undefined);
    throw err;
  }
}

/**
 * The namespace bound at `from` bound at `to` (made now, an empty file) instead: a spare network
 * namespace given to its holder (network/spare-pool.ts). All or nothing: on failure `to` is gone
 * and `from` still holds the namespace.
 */
export async function moveNetns(from: string, to: string): Promise<void> {
  const what = `moving netns ${from} to ${to}`;
  if (!(await isMountPoint(from)))
    throw new BerthError('ERR_NETNS', 'internal', `${what}: no namespace is bound at ${from}`);
  await makeDirs(dirname(to));
  await writeFile(to, '', { flag: 'wx' }).catch((err: Error) => {
    throw new BerthError('ERR_NETNS', 'internal', `${what}: ${err.message}`, { cause: err });
  });
  try {
    const helper = spawnHelperInUse();
    if (helper) {
      await helper.rebindNetns(from, to).catch((err: Error) => {
        throw new BerthError('ERR_NETNS', 'internal', `${what}: ${err.message}`, { cause: err });
      });
    } else {
      await runTool('mount', ['--bind', from, to], what, { code: 'ERR_NETNS' });
      await runTool('umount', [from], what, { code: 'ERR_NETNS' });
    }
  } catch (err) {
    // Where the namespace is, whatever the answer said (a helper gone or timed out mid-request):
    // moved after all, or back at `from` alone.
    const [atTo, atFrom] = [await isMountPoint(to), await isMountPoint(from)];
    if (atTo && !atFrom) return rm(from, { force: true });
    if (atTo)
      await runTool('umount', ['-l', to], what, { code: 'ERR_NETNS', direct: true }).catch(() => undefined);
    await rm(to, { force: true }).catch(() => undefined);
    throw err;
  }
  await rm(from, { force: true });
}

export async function removeNetns(path: string): Promise<void> {
  // Mounts stacked on one path (two creators that raced) come off one at a time.
  for (let i = 0; i < 8 && (await isMountPoint(path)); i++) {
    const what = `removing netns ${path}`;
    await runTool('umount', [path], what, { code: 'ERR_NETNS' }).catch(async (err) => {
      // The spawn helper gone mid-request (killed, stopped): umount forked from here instead.
      if (!(await isMountPoint(path))) return;
      if (!spawnHelperInUse()) throw err;
      await runTool('umount', [path], what, { code: 'ERR_NETNS', direct: true });
    });
  }
  await rm(path, { force: true });
}
