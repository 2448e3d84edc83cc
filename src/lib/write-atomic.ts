// Replacing a small file whole: written beside it, flushed to disk, then renamed over it, and the
// rename itself flushed, so after a crash or a power cut a reader sees the old content or the new,
// never a part and never an empty file (ext4 may otherwise persist the rename before the data).
// Its folder is made first. Root's alone unless a mode says otherwise.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeDirs } from './make-dirs.js';

export async function writeFileAtomic(path: string, text: string, mode = 0o600): Promise<void> {
  await (await stageFileAtomic(path, text, mode)).commit();
}

/** A file written aside by stageFileAtomic: its flush under way. */
export interface StagedFile {
  /** Once flushed: renamed into place, and the rename flushed (writeFileAtomic's end). */
  commit(): Promise<void>;
  /** Removed, never put in place. */
  abort(): Promise<void>;
}

/**
 * writeFileAtomic in two steps, so its flush overlaps other work: the file is written aside here
 * and its flush begun; nothing is in place until `commit`.
 */
export async function stageFileAtomic(path: string, text: string, mode = 0o600): Promise<StagedFile> {
  await makeDirs(dirname(path));
  const tmp = `${path}.${process.pid}.tmp`;
  await rm(tmp, { force: true }); // one a crash of an earlier process with this pid left
  const file = await open(tmp, 'wx', mode);
  let flushed: Promise<void>;
  try {
    await file.writeFile(text);
    flushed = file.sync();
  } catch (err) {
    await file.close();
    throw err;
  }
  flushed = flushed.finally(() => file.close());
  flushed.catch(() => undefined); // said by commit
  return {
    async commit() {
      await flushed;
      await rename(tmp, path);
      await fsyncDir(dirname(path));
    },
    async abort() {
      await flushed.catch(() => undefined);
      await rm(tmp, { force: true });
    },
  };
}

/**
 * writeFileAtomic without the flushes, for state a power cut makes moot (a boot's network
 * namespaces, veths and addresses), or flushed later with others (flushFiles): a reader, or the
 * next process after a kill, sees the old content or the new, never a part; after a power cut
 * before a flush it may see neither (the caller reads a torn file as none).
 */
export async function replaceFile(path: string, text: string, mode = 0o600): Promise<void> {
  await makeDirs(dirname(path));
  const tmp = `${path}.${process.pid}.tmp`;
  await rm(tmp, { force: true }); // one a crash of an earlier process with this pid left
  await writeFile(tmp, text, { mode, flag: 'wx' });
  await rename(tmp, path);
}

/**
 * replaceFile within one turn of the event loop, for small files of a folder that exists (a
 * bundle's hostname, hosts, resolv.conf and config.json): each step of replaceFile is a hop through
 * libuv's thread pool and back, some eight a file. The same steps, the same outcome. The cost: a
 * write the kernel throttles (dirty pages over its limit, an unpack writing hard) holds the event
 * loop, not a pool thread, for that while; unflushed writes of a few KiB rarely are.
 */
export function replaceFileSync(path: string, text: string, mode = 0o600): void {
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true }); // one a crash of an earlier process with this pid left
  writeFileSync(tmp, text, { mode, flag: 'wx' });
  renameSync(tmp, path);
}

/**
 * Files replaceFile wrote, made durable: each one's data flushed, all at once (one journal commit
 * may serve them all). Their renames last once their folder is flushed after this, as
 * writeFileAtomic of a file beside them does: a file written after them that says they exist (a
 * container's record beside its bundle) then never outlives them on disk.
 */
export async function flushFiles(paths: readonly string[]): Promise<void> {
  await Promise.all(
    paths.map(async (path) => {
      const h = await open(path, 'r');
      try {
        await h.sync();
      } finally {
        await h.close();
      }
    }),
  );
}

/** fsync a directory so a rename inside it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
