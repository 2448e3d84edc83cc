// Whether a process on this host still has a file open for writing: `scp` and `cp` write a file in
// place, in pieces, and a pause between two pieces can leave a text that parses cleanly, ends its
// last line and defines everything the old one did (an `env` list cut after its first entry), which
// no rule on the text alone tells from an edit (settle.ts). The writer's open descriptor does.
// Read from /proc (proc-fds.ts: every process's `fd/` links, and `fdinfo/` for the access mode of a
// match). A writer in another mount namespace (a container writing through a bind) names another
// path and is not seen; a process that opened the same path in a root of its own (a container's
// `/etc/berth/manifests/x.yaml`) is not a writer of the host's file, and holds nothing (proc-fds.ts
// compares device and inode).
//
// A pass looks at every process once, newest first (pid-order.ts: the writer of a file changed a
// moment ago most likely started a moment ago), then at the processes started while it looked (the
// PIDs handed out since its list was taken). Reading /proc is slow on a busy host (2000 processes
// with 10 descriptors each took 450-900 ms), and the daemon reads it on its thread, again every
// WRITER_POLL_MS while a file is held: so one poll reads for at most its budget (looking at the clock
// every FD_BATCH descriptors, so a container's process holding a million cannot hold the daemon for
// seconds), and the pass goes on where it stopped at the next poll, inside a process if need be.
// The verdicts:
// - 'writing': a process seen in the pass under way or the last whole one has the file open for
//   writing now (checked again at the answer: it may have closed it since).
// - 'none': a whole pass found no writer, and the file was the same (device, inode, size, mtime and
//   ctime) when that pass began, when the caller read it, and now. A process that had it open for
//   writing as the pass began was seen, or closed it without writing again (it would have changed):
//   the text read is the one its writers left. One that opens it after it was looked at and writes
//   changes it too, and the next pass looks at it again.
// - 'unknown': neither yet (the pass goes on at the next poll), or the file changed since it was read.
// Invariants: one pass at a time, dropped when no question of a poll awaits it (the process it was
// reading let go); a file's verdict only ever comes from a pass that began with it on its list (with
// its identity then); a poll that asks reads one batch of descriptors at least, so an awaited pass
// ends. A same-size rewrite within one tick of the file system's clock keeps the identity
// (file-cache.ts): such a change during a pass is not told.
import { realpathSync } from 'node:fs';
import { type FileIdentity, identityOf, sameIdentity } from '../lib/file-cache.js';
import { newestFirst, type PidCycle, startedSince } from './pid-order.js';
import {
  closeFds,
  type FdReader,
  Identities,
  isOpenForWriting,
  lastPid,
  listPids,
  openFds,
  readFds,
} from './proc-fds.js';

/** The most time one poll of the daemon's may spend reading /proc. */
export const SCAN_BUDGET_MS = 50;

export type WriterVerdict = 'writing' | 'none' | 'unknown';

/** One load's question: is `file`, as read (`id`: its identity then), still being written? */
export type WriterCheck = (file: string, id: FileIdentity) => WriterVerdict;

export interface WriterScan {
  /**
   * One poll (a load of the folder): the check it asks of each file changed a moment ago. Its
   * questions share one budget. `files`: those it may ask of, put on the next pass's list at once
   * (a file asked of and not on the list of the pass under way waits for the next one).
   */
  poll(files: string[]): WriterCheck;
}

export interface WriterScanDeps {
  proc?: string;
  /** Most ms one poll reads /proc for (SCAN_BUDGET_MS; Infinity: a whole pass in one poll). */
  budgetMs?: number;
  now?: () => number;
  /** This process, never counted as a writer (it reads the files). */
  self?: number;
}

interface Pass {
  /** The files on its list (real paths), with their identity when it began. */
  files: Map<string, FileIdentity | undefined>;
  /** PIDs to look at, newest first, and the next one's index. */
  queue: string[];
  next: number;
  /** The last PID handed out when the queue was listed; undefined: /proc did not say. */
  listedAt: PidCycle | undefined;
  /** Whether the processes started while it looked are in the queue. */
  caughtUp: boolean;
  /**
   * Descriptors open for writing on a listed file when read: `[pid, fd]` by real path. Only those:
   * a container's process may hold a million of its own file of that path, each checked once, here.
   */
  found: Map<string, Array<[pid: string, fd: string]>>;
  /** The identities it has read (each process's mountinfo, each file's), once each. */
  ids: Identities;
  /** Whether a question of the last poll could be answered by it (else it is dropped: stale). */
  awaited: boolean;
  /** The process being read, when a poll's budget ended inside its descriptors. */
  reading?: FdReader;
}

function realpathOf(file: string): string | undefined {
  try {
    return realpathSync.native(file);
  } catch {
    return undefined;
  }
}

export function createWriterScan(deps: WriterScanDeps = {}): WriterScan {
  const proc = deps.proc ?? '/proc';
  const budgetMs = deps.budgetMs ?? SCAN_BUDGET_MS;
  const now = deps.now ?? Date.now;
  const self = deps.self ?? process.pid;
  /** Files asked of (or named by a poll) since the pass under way began: the next pass's list. */
  let wanted = new Set<string>();
  let current: Pass | undefined;
  let last: Pass | undefined;

  const begin = (): Pass => {
    const files = new Map<string, FileIdentity | undefined>();
    for (const f of wanted) {
      const target = realpathOf(f);
      if (target !== undefined) files.set(target, identityOf(target));
    }
    wanted = new Set();
    const listedAt = lastPid(proc);
    const queue = newestFirst(listPids(proc, self), listedAt);
    const ids = new Identities(proc);
    return { files, queue, next: 0, listedAt, caughtUp: false, found: new Map(), ids, awaited: false };
  };

  /** Reads `pass`'s processes' descriptors until `deadline` (a batch at least); true once it is whole. */
  const advance = (pass: Pass, deadline: number): boolean => {
    for (let first = true; ; first = false) {
      if (!pass.reading && pass.next === pass.queue.length) {
        if (pass.caughtUp || pass.listedAt === undefined) return true;
        pass.caughtUp = true;
        const at = lastPid(proc);
        if (at === undefined) return true;
        pass.queue = startedSince(listPids(proc, self), pass.listedAt, at);
        pass.next = 0;
        continue;
      }
      if (!first && now() >= deadline) return false;
      const reading = pass.reading ?? openFds(proc, pass.queue[pass.next++] as string);
      const { found, done } = readFds(proc, reading, (t) => pass.files.has(t));
      for (const [fd, target] of found) {
        if (!isOpenForWriting(proc, reading.pid, fd, target, pass.ids)) continue;
        const held = pass.found.get(target);
        if (held) held.push([reading.pid, fd]);
        else pass.found.set(target, [[reading.pid, fd]]);
      }
      pass.reading = done ? undefined : reading;
    }
  };

  /** A pass given up: the descriptors of the process it was reading are let go. */
  const drop = (pass: Pass | undefined) => {
    if (pass?.reading) closeFds(pass.reading);
  };

  /** Whether a writer a pass found still has `target` open for writing (it may have closed it). */
  const isWritten = (target: string) => {
    const ids = new Identities(proc);
    return [current, last].some((p) =>
      (p?.found.get(target) ?? []).some(([pid, fd]) => isOpenForWriting(proc, pid, fd, target, ids)),
    );
  };

  const clears = (pass: Pass | undefined, target: string, id: FileIdentity) => {
    const then = pass?.files.get(target);
    return then !== undefined && sameIdentity(then, id);
  };

  return {
    poll(files) {
      // A pass no question of the last poll waited for (the files it listed were taken, or have
      // changed since) is dropped: the next question begins one with the files as they are now.
      if (current?.awaited === false) {
        drop(current);
        current = undefined;
      }
      if (current) current.awaited = false;
      else wanted = new Set(); // no pass under way: this poll's files are the next one's list
      for (const f of files) wanted.add(f);
      let deadline: number | undefined;
      return (file, id) => {
        const target = realpathOf(file);
        const nowId = identityOf(file);
        if (target === undefined || nowId === undefined) return 'none'; // gone: nothing to hold
        if (!sameIdentity(nowId, id)) return 'unknown'; // changed since it was read: read it again
        wanted.add(file);
        let begunHere = false;
        for (;;) {
          if (current && clears(current, target, id)) current.awaited = true; // its writers too
          if (isWritten(target)) return 'writing';
          if (clears(last, target, id)) return 'none';
          // A pass begun for this question ended without clearing it: it changed as it went.
          if (begunHere && current === undefined) return 'unknown';
          if (deadline !== undefined && now() >= deadline) return 'unknown';
          deadline ??= now() + budgetMs;
          if (current === undefined) {
            current = begin();
            begunHere = true;
          }
          if (clears(current, target, id)) current.awaited = true;
          if (advance(current, deadline)) {
            last = current;
            current = undefined;
          }
        }
      };
    },
  };
}
