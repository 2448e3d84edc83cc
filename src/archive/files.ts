// The files of an image archive, whatever holds them: a tar file (read in place at each entry's
// offset, see tar-index.ts) or a directory (an OCI image layout on disk). Callers ask by the
// archive-relative name; nothing here is extracted or written.
//
// Invariants: a directory's files are opened without following a symlink in any component of the
// name (O_NOFOLLOW on each step below the directory), and must be regular files (a FIFO or device
// is refused, never waited on); reads never run past the size seen when the file was opened.
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../lib/errors.js';
import { cleanArchivePath, indexTar, resolveArchiveFile, type TarIndexEntry } from './tar-index.js';

export interface ArchiveFile {
  size: number;
  /** The same for every name of one file (links), different for different files. */
  key: string;
  /** The file's bytes from `start` to its end, in chunks. */
  stream(start: number): AsyncIterable<Buffer>;
  /** The whole file, refusing more than `maxBytes` (ERR_ARCHIVE_ENTRY_TOO_LARGE). */
  read(maxBytes: number): Promise<Buffer>;
}

export interface ArchiveFiles {
  /** How messages name the archive. */
  readonly name: string;
  /** A regular file of the archive, or undefined when there is none by that name. */
  get(path: string): Promise<ArchiveFile | undefined>;
  close(): Promise<void>;
}

const CHUNK = 1 << 20;

function tooLarge(archive: string, path: string, size: number, max: number): BerthError {
  return new BerthError(
    'ERR_ARCHIVE_ENTRY_TOO_LARGE',
    'limit',
    `${archive}: "${path}" is ${size} bytes (limit ${max})`,
  );
}

/** A file's byte range [from, from + size) through `h`. */
function rangeFile(
  h: FileHandle,
  at: { from: number; size: number; key: string },
  archive: string,
  path: string,
): ArchiveFile {
  const { from, size } = at;
  const readRange = async function* (start: number): AsyncIterable<Buffer> {
    let pos = start;
    while (pos < size) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - pos));
      const { bytesRead } = await h.read(buf, 0, buf.length, from + pos);
      if (bytesRead === 0) {
        throw new BerthError('ERR_ARCHIVE_TRUNCATED', 'integrity', `${archive}: "${path}" ends early`);
      }
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  };
  return {
    size,
    key: at.key,
    stream: readRange,
    async read(maxBytes) {
      if (size > maxBytes) throw tooLarge(archive, path, size, maxBytes);
      const parts: Buffer[] = [];
      for await (const b of readRange(0)) parts.push(Buffer.from(b));
      return Buffer.concat(parts);
    },
  };
}

export async function openTarFiles(file: string, name = file): Promise<ArchiveFiles> {
  // O_NONBLOCK: a FIFO must not hang the open (it is refused below as not a regular file).
  const h = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await h.stat();
    if (!st.isFile()) throw new BerthError('ERR_ARCHIVE_FORMAT', 'invalid', `${name} is not a regular file`);
    const read = async (position: number, length: number) => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await h.read(buf, 0, length, position);
      return buf.subarray(0, bytesRead);
    };
    const entries: Map<string, TarIndexEntry> = await indexTar(read, st.size, name);
    return {
      name,
      async get(path) {
        const e = resolveArchiveFile(entries, path, name);
        return e
          ? rangeFile(h, { from: e.offset, size: e.size, key: `@${e.offset}` }, name, path)
          : undefined;
      },
      close: () => h.close(),
    };
  } catch (err) {
    await h.close();
    throw err;
  }
}

/** Opens `rel` below `dir` one component at a time, never following a symlink. */
async function openBelow(dir: string, rel: string): Promise<FileHandle | undefined> {
  const parts = rel.split('/');
  let at = dir;
  for (const [i, part] of parts.entries()) {
    at = join(at, part);
    const last = i === parts.length - 1;
    let h: FileHandle;
    try {
      h = await open(
        at,
        constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | (last ? 0 : constants.O_DIRECTORY),
      );
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return undefined;
      if (code === 'ELOOP' || code === 'ENOTDIR') {
        throw new BerthError(
          'ERR_ARCHIVE_UNSAFE',
          'integrity',
          `${dir}: "${rel}" goes through a symlink or non-directory`,
        );
      }
      throw err;
    }
    if (last) return h;
    await h.close();
  }
  return undefined;
}

export function openDirFiles(dir: string): ArchiveFiles {
  const handles: FileHandle[] = [];
  return {
    name: dir,
    async get(path) {
      const rel = cleanArchivePath(path, dir);
      const h = await openBelow(dir, rel);
      if (!h) return undefined;
      handles.push(h);
      const st = await h.stat();
      if (!st.isFile()) {
        throw new BerthError('ERR_ARCHIVE_UNSAFE', 'integrity', `${dir}: "${rel}" is not a regular file`);
      }
      return rangeFile(h, { from: 0, size: st.size, key: `${st.dev}:${st.ino}` }, dir, rel);
    },
    async close() {
      await Promise.all(handles.splice(0).map((h) => h.close()));
    },
  };
}
