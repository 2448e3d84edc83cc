// Reading a container's log across its files: the rotated ones oldest first, then the live one
// (log-rotation.ts names them), whole or its last N lines, then following the live file through
// conmon's rotations.
//
// Invariants: the live file is opened first and read through its descriptor, so a rotation while
// reading loses nothing: its old inode is read to its end before the new live file is opened.
// Files listed after the live one's inode (a rotation between the open and the listing) are newer
// than it and are left to the follow step. Every open refuses a symbolic link.
import type { FileHandle } from 'node:fs/promises';
import { lstat } from 'node:fs/promises';
import { errnoCode } from '../lib/errors.js';
import { type LogLine, type PendingParts, parseCriLog, partialLines } from './log-format.js';
import { listLogFiles, openLogFile } from './log-rotation.js';

export interface LogCursor {
  /** The lines written since the last call (following the live file through rotations). */
  drain(): Promise<LogLine[]>;
  /** Each stream's text written without a newline yet (for a container that has exited), then none. */
  partial(): LogLine[];
  close(): Promise<void>;
}

/** The log's history (all of it, or its last `tail` lines), and a cursor on the live file after it. */
export async function readLogHistory(
  log: string,
  tail: number | undefined,
): Promise<{ lines: LogLine[]; cursor: LogCursor }> {
  const cursor = await openLiveCursor(log);
  try {
    const files = await listLogFiles(log);
    const older: string[] = [];
    for (const f of files) {
      const st = await lstat(f).catch(() => undefined);
      if (st && st.ino === cursor.ino()) break;
      if (f !== log) older.push(f);
    }
    if (tail === undefined) {
      const lines: LogLine[] = [];
      let pending: PendingParts = {};
      for (const f of older) {
        const parsed = await readLogFile(f, pending);
        lines.push(...parsed.lines);
        pending = parsed.pending;
      }
      // A line a rotation cut: its first parts in the older file, its end in the live one.
      cursor.carry(pending);
      return { lines: [...lines, ...(await cursor.drain())], cursor };
    }
    const live = await cursor.drain();
    // Newest first, only as many files as the last `tail` lines need.
    const chunks = [live];
    let count = live.length;
    for (let i = older.length - 1; i >= 0 && count < tail; i--) {
      const { lines } = await readLogFile(older[i] as string, {});
      chunks.unshift(lines);
      count += lines.length;
    }
    const all = chunks.flat();
    return { lines: tail === 0 ? [] : all.slice(-tail), cursor };
  } catch (err) {
    await cursor.close();
    throw err;
  }
}

async function readLogFile(
  file: string,
  pending: PendingParts,
): Promise<{ lines: LogLine[]; pending: PendingParts }> {
  const h = await openLogFile(file);
  if (!h) return { lines: [], pending };
  try {
    const parsed = parseCriLog(await h.readFile(), pending);
    return { lines: parsed.lines, pending: parsed.pending };
  } finally {
    await h.close();
  }
}

async function openLiveCursor(
  log: string,
): Promise<LogCursor & { ino(): number; carry(parts: PendingParts): void }> {
  let handle: FileHandle | undefined;
  let ino = -1;
  let offset = 0;
  let rest: Buffer = Buffer.alloc(0);
  let pending: PendingParts = {};
  const reopen = async () => {
    await handle?.close();
    handle = await openLogFile(log);
    ino = handle ? (await handle.stat()).ino : -1;
    offset = 0;
  };
  const readOn = async (out: LogLine[]) => {
    if (!handle) return;
    const { size } = await handle.stat();
    if (size < offset) offset = 0; // truncated in place
    if (size === offset) return;
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
    offset += bytesRead;
    const parsed = parseCriLog(Buffer.concat([rest, buf.subarray(0, bytesRead)]), pending);
    rest = parsed.rest;
    pending = parsed.pending;
    out.push(...parsed.lines);
  };
  await reopen();
  return {
    ino: () => ino,
    /** Parts of lines under way before the live file (an older file's), for its first read. */
    carry(parts: PendingParts) {
      pending = parts;
    },
    async drain() {
      const out: LogLine[] = [];
      // A rotation since the last read: the old inode to its end, then the new live file.
      for (let i = 0; i < 8; i++) {
        await readOn(out);
        const now = await lstat(log).catch((err: unknown) => {
          if (errnoCode(err) === 'ENOENT') return undefined;
          throw err;
        });
        if (!now || now.ino === ino) break;
        await readOn(out);
        rest = Buffer.alloc(0);
        await reopen();
      }
      return out;
    },
    partial() {
      const lines = partialLines(pending);
      pending = {};
      return lines;
    },
    async close() {
      await handle?.close();
      handle = undefined;
    },
  };
}
