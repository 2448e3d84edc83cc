// Who may enter --root and --state. Both are 0711 at most (as Docker and containerd keep theirs:
// CVE-2021-41091, CVE-2021-41103) and every directory at their top is 0700, so no local user can
// list a store, open a device node an image layer shipped, run a setuid file a container wrote into
// its upper dir, or read a container's environment from its bundle. Containers do not need the
// host paths: runc mounts their rootfs and volumes as root before it drops to the container's user.
//
// Checked on every command that opens the store (a few mkdir/lstat calls); stores made by an
// older berth with looser modes are tightened, and once (the marker records it) every existing
// bundle's config.json and container.json becomes 0600 as new ones are written.
import { chmod, lstat, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errnoCode, hasCode, isBerthError, unwritableStore } from '../lib/errors.js';
import { ensurePrivateDir } from '../lib/private-dir.js';

const ROOT_DIRS = ['content', 'ingest', 'snapshots', 'containers', 'volumes', 'pods', 'last-good', 'locks'];
const STATE_DIRS = ['runc', 'exits', 'netns', 'sockets', 'locks'];
/** Present once every bundle file of the store has been made private. */
export const MODES_MARKER = '.private-v1';
const BUNDLE_FILES = ['config.json', 'container.json'];

export async function secureRoot(root: string): Promise<void> {
  try {
    await ensurePrivateDir(root, { mode: 0o711, followSymlink: true });
  } catch (err) {
    if (hasCode(err, 'ERR_UNSAFE_DIR') && !(await stat(root)).isDirectory()) {
      throw new BerthError('ERR_STORE_NOT_DIRECTORY', 'invalid', `store ${root} is not a directory`, {
        cause: err,
        hint: 'point --root at a directory',
      });
    }
    if (isBerthError(err)) throw err;
    const msg = unwritableStore(root, err);
    throw new BerthError('ERR_STORE_UNWRITABLE', 'invalid', msg, { cause: err });
  }
  // An administrator may have moved one to another disk (a symlink only root could make here).
  for (const d of ROOT_DIRS) await ensurePrivateDir(join(root, d), { followSymlink: d !== 'locks' });
  try {
    await lstat(join(root, MODES_MARKER));
    return;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  await tightenBundles(join(root, 'containers'));
  await writeFile(join(root, MODES_MARKER), '', { mode: 0o600 });
}

export async function secureState(state: string): Promise<void> {
  await ensurePrivateDir(state, { mode: 0o711, followSymlink: true });
  for (const d of STATE_DIRS) await ensurePrivateDir(join(state, d), { followSymlink: d !== 'locks' });
}

/** Bundles written before files were made 0600: each container's dir 0700, its records 0600. */
async function tightenBundles(containers: string): Promise<void> {
  for (const id of await readdir(containers)) {
    const dir = join(containers, id);
    if (!(await tightenIfOwn(dir, 0o700, true))) continue;
    for (const f of BUNDLE_FILES) await tightenIfOwn(join(dir, f), 0o600, false);
  }
}

/** chmod a directory or regular file (never through a symlink) down to `mode`; false if absent. */
async function tightenIfOwn(path: string, mode: number, isDir: boolean): Promise<boolean> {
  try {
    const st = await lstat(path);
    if (isDir ? !st.isDirectory() : !st.isFile()) return false;
    const bits = st.mode & 0o7777;
    if ((bits & ~mode) !== 0) await chmod(path, bits & mode);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}
