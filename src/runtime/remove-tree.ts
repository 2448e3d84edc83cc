// Removal of a tree a container could write (an emptyDir, an overlay upper dir, a bundle's persist
// dir) while that container may still run or race the removal. Node's `rm -r` works by path: a
// directory it has seen swapped for a symlink between its lstat and its readdir/unlinks, it reads
// and empties through the link — host files deleted. Here nothing below the root is named by path:
// each directory is opened O_DIRECTORY|O_NOFOLLOW inside its parent's open descriptor
// (`/proc/self/fd/<dir>/<name>`, an openat, as volume-ownership.ts walks), and its entries are
// unlinked and rmdir'ed through that descriptor, which never changes what it names. A symlink is
// unlinked, never followed; a directory swapped for one is unlinked as the link. A directory on
// another mount (its fdinfo's mnt_id differs from the root's) is never entered: ERR_BUNDLE_BUSY; a
// btrfs subvolume (another st_dev on the same mount) is made writable first (subvolume-writable.ts).
//
// Invariants: at most MAX_OPEN descriptors are held, whatever the depth (the walk is a loop over
// an explicit stack, never recursion); an ancestor whose descriptor was closed is reopened as the
// `..` of its child and must be the same (dev, ino) or the walk stops with ERR_TREE_MOVED.
import { constants, type Dirent, fstatSync, readFileSync } from 'node:fs';
import { type FileHandle, open, readdir, rmdir, unlink } from 'node:fs/promises';
import { BerthError, errnoCode } from '../lib/errors.js';
import { removeDenied } from './remove-denied.js';
import { makeSubvolumeWritable } from './subvolume-writable.js';

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const MAX_OPEN = 64;
/** Times a directory that fills again (a late writer) or flips type is gone over again. */
const MAX_RETRIES = 5;
const BATCH = 32;
const RETRY_DELAY_MS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Points the tests use to change the tree at the worst moment. */
export interface RemoveTreeHooks {
  /** Called with a directory's path just before it is opened to be emptied. */
  beforeOpen?: (path: string) => Promise<void> | void;
}

interface Frame {
  handle: FileHandle | undefined;
  path: string;
  name: string;
  dev: number;
  ino: number;
  /** Subdirectories still to empty (non-directories are unlinked when the frame is read). */
  dirs: string[] | undefined;
  /** Times each entry was gone over again. */
  retries: Map<string, number>;
}

const at = (h: FileHandle, name: string): string => `/proc/self/fd/${h.fd}/${name}`;

/** Remove `root` (a resolved path whose parent only berth writes) and everything in it. */
export async function removeTree(root: string, hooks: RemoveTreeHooks = {}): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const opened = await openDir(root, root, hooks);
    if (opened === 'gone') return;
    if (opened === 'not-dir') return unlinkEntry(root, root);
    await emptyTree(opened, root, hooks);
    try {
      await rmdir(root);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return;
      if (code !== 'ENOTEMPTY' || attempt >= MAX_RETRIES) throw denied(err, root);
      await sleep(RETRY_DELAY_MS * (attempt + 1));
    }
  }
}

async function emptyTree(rootHandle: FileHandle, root: string, hooks: RemoveTreeHooks) {
  const rootFrame = frame(rootHandle, root, '', fstatSync(rootHandle.fd));
  const stack: Frame[] = [rootFrame];
  try {
    const mountId = mountIdOf(rootHandle);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as Frame;
      const h = top.handle as FileHandle;
      if (top.dirs === undefined) top.dirs = await unlinkFiles(h, top.path);
      const name = top.dirs.pop();
      if (name !== undefined) {
        const path = `${top.path}/${name}`;
        const child = await openDir(at(h, name), path, hooks);
        if (child === 'gone') continue;
        if (child === 'not-dir') {
          await unlinkEntry(at(h, name), path).catch((err) => retryOrThrow(top, name, err));
          continue;
        }
        if (mountIdOf(child) !== mountId) {
          await child.close();
          throw new BerthError(
            'ERR_BUNDLE_BUSY',
            'conflict',
            `not removing ${root}: ${path} is a mount point`,
            {
              hint: `unmount it (umount ${path}) and remove again`,
            },
          );
        }
        const st = fstatSync(child.fd);
        // Another st_dev on the same mount: a btrfs subvolume, maybe a read-only snapshot.
        if (st.dev !== top.dev) await makeSubvolumeWritable(child.fd);
        stack.push(frame(child, path, name, st));
        if (stack.length > MAX_OPEN) await closeFrame(stack[stack.length - 1 - MAX_OPEN] as Frame);
        continue;
      }
      // `top` is empty: remove it from its parent (reopened from it if its descriptor was closed).
      stack.pop();
      if (stack.length === 0) break; // the root: closed below, removed by path by the caller
      const parent = stack[stack.length - 1] as Frame;
      if (!parent.handle) parent.handle = await reopenParent(h, parent);
      await closeFrame(top);
      try {
        await rmdir(at(parent.handle, top.name));
      } catch (err) {
        const code = errnoCode(err);
        // Filled again (a late writer), or swapped for a link once emptied: gone over again.
        if ((code === 'ENOTEMPTY' || code === 'ENOTDIR') && retry(parent, top.name)) {
          // As rm's retryDelay: a writer being killed gets a little longer each time to finish.
          if (code === 'ENOTEMPTY') await sleep(RETRY_DELAY_MS * (parent.retries.get(top.name) ?? 1));
          continue;
        }
        if (code !== 'ENOENT') throw denied(err, top.path);
      }
    }
  } finally {
    await closeFrame(rootFrame); // popped from the stack once emptied
    for (const f of stack) await closeFrame(f);
  }
}

function frame(handle: FileHandle, path: string, name: string, st: { dev: number; ino: number }): Frame {
  return { handle, path, name, dev: st.dev, ino: st.ino, dirs: undefined, retries: new Map() };
}

async function closeFrame(f: Frame): Promise<void> {
  const h = f.handle;
  f.handle = undefined;
  await h?.close().catch(() => undefined);
}

/** The directory's entries: non-directories unlinked (a batch at a time), directories returned. */
async function unlinkFiles(h: FileHandle, path: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(at(h, ''), { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return []; // removed meanwhile (a dead directory lists nothing)
    throw denied(err, path); // EIO, a damaged block: named as people know it
  }
  const dirs: string[] = [];
  const files: string[] = [];
  for (const e of entries) (e.isDirectory() ? dirs : files).push(e.name);
  for (let i = 0; i < files.length; i += BATCH) {
    await Promise.all(
      files.slice(i, i + BATCH).map(async (name) => {
        try {
          await unlink(at(h, name));
        } catch (err) {
          const code = errnoCode(err);
          if (code === 'EISDIR' || code === 'EPERM')
            dirs.push(name); // a directory now, or immutable: see below
          else if (code !== 'ENOENT') throw denied(err, `${path}/${name}`);
        }
      }),
    );
  }
  return dirs;
}

/** Open a directory without following a link; 'not-dir' for anything else, 'gone' if missing. */
async function openDir(
  target: string,
  path: string,
  hooks: RemoveTreeHooks,
): Promise<FileHandle | 'gone' | 'not-dir'> {
  await hooks.beforeOpen?.(path);
  try {
    return await open(target, DIR_FLAGS);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return 'gone';
    if (code === 'ELOOP' || code === 'ENOTDIR') return 'not-dir';
    throw denied(err, path);
  }
}

async function unlinkEntry(target: string, path: string): Promise<void> {
  try {
    await unlink(target);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw denied(err, path);
  }
}

/** An entry that turned back into a directory between open and unlink is gone over again, a few times. */
function retryOrThrow(top: Frame, name: string, err: unknown): void {
  if (errnoCode(err) !== 'EISDIR' || !retry(top, name)) throw err;
}

/** Put `name` back on `f`'s list unless it was already gone over MAX_RETRIES times. */
function retry(f: Frame, name: string): boolean {
  const n = f.retries.get(name) ?? 0;
  if (n >= MAX_RETRIES) return false;
  f.retries.set(name, n + 1);
  f.dirs?.push(name);
  return true;
}

async function reopenParent(child: FileHandle, parent: Frame): Promise<FileHandle> {
  const h = await open(at(child, '..'), DIR_FLAGS).catch((err: unknown) => {
    throw denied(err, parent.path);
  });
  const st = fstatSync(h.fd);
  if (st.dev === parent.dev && st.ino === parent.ino) return h;
  await h.close();
  throw new BerthError(
    'ERR_TREE_MOVED',
    'conflict',
    `not removing ${parent.path}: it was moved while removed`,
    {
      hint: 'stop what writes in it and remove again',
    },
  );
}

/**
 * The mount a descriptor is on (its fdinfo's mnt_id): a bind mount of the same filesystem has the
 * same st_dev, a btrfs subvolume another one. Read synchronously: procfs answers from memory.
 */
function mountIdOf(h: FileHandle): string {
  const info = readFileSync(`/proc/self/fdinfo/${h.fd}`, 'utf8');
  return /^mnt_id:\s*(\d+)/m.exec(info)?.[1] ?? '';
}

function denied(err: unknown, path: string): unknown {
  if (err instanceof BerthError) return err;
  const code = errnoCode(err);
  if (code === 'EPERM' || code === 'EACCES' || code === 'EROFS') return removeDenied(path, code, err);
  // Any other errno names the entry as people know it, not the descriptor path it was reached by.
  const e = err as NodeJS.ErrnoException;
  if (code && typeof e.path === 'string' && e.path.startsWith('/proc/self/fd/')) {
    e.message = e.message.replace(e.path, path);
    e.path = path;
  }
  return err;
}
