// Keeping a container's rotated log files (their names and the rename plan: log-files.ts).
//
// Before conmon starts, berth makes the live log (empty, 0600) and holds it (a hard link,
// `container.log.hold.1`), and arms conmon's next file (an empty `container.log.tmp`, held as
// `hold.2`). When conmon rotates, it opens that armed file and renames it over the log: the old
// content stays held, the new live file is held already. `holdLiveLog` (the daemon runs it as
// soon as inotify reports conmon's rename, with no lock) holds the live file and arms the next
// one again; `keepRotatedLogs` (the daemon after that; `berth logs` and `berth apply` otherwise)
// does both and makes the held files conmon rotated away `.1`…, shifts the others and drops those
// past `maxFiles`. So conmon can rotate twice between two of berth's looks and nothing is lost; a
// third rotation before berth has armed again loses the middle file (conmon unlinks it). On disk:
// at most maxFiles rotated files of at most maxBytes and the live one, plus what conmon rotated
// away since berth's last look.
//
// Invariants: the log directory is the container's bundle (under root's 0700 `containers/`,
// never mounted into the container), so only berth and conmon name files there; still, nothing
// here follows a symbolic link (rename, link and unlink act on names; opens use O_NOFOLLOW, a
// name of berth's that is not a regular file is removed). berth never removes nor renames
// conmon's tmp name (conmon exits when its rename fails). Looks that rename are serialised by a
// lock (`lock`); holding and arming need none (O_EXCL and link make concurrent ones safe; two
// holds of one inode count once). Readers take no lock.
import { constants, type Stats } from 'node:fs';
import { link, lstat, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import {
  conmonTmpName,
  holdLogName,
  parseHoldSeq,
  parseRotatedNumber,
  planLogShift,
  rotatedLogName,
} from './log-files.js';

export interface LogLock {
  release(): Promise<void>;
}

/** The host config's `logs.maxFiles`, and the host's lock over looks (RuntimeDeps.logRotation). */
export interface LogRotation {
  maxFiles: number;
  lock(): Promise<LogLock>;
}

/** The live log, empty, held and with conmon's next file armed, before conmon opens it. */
export async function prepareContainerLog(log: string, maxFiles: number): Promise<void> {
  const h = await open(
    log,
    constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW,
    0o600,
  );
  await h.close();
  if (maxFiles > 0) await holdLiveLog(log);
}

/** Holds the live file when no hold of it exists, and arms conmon's next file when none is. */
export async function holdLiveLog(log: string): Promise<void> {
  const seen = await inspectLogs(log);
  // Armed only behind a live file that is held: the armed file's seq must be above it (newer).
  if (!seen.live?.isFile()) return;
  let seq = seen.maxSeq;
  if (!seen.holds.some((h) => h.st.ino === seen.live?.ino)) {
    const linked = await linkNewHold(log, log, seq);
    if (linked === undefined) return;
    seq = linked;
  }
  if (seen.tmp) return; // armed already, or conmon's own mid-rotation
  try {
    const h = await open(
      conmonTmpName(log),
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    await h.close();
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return;
    throw err;
  }
  await linkNewHold(log, conmonTmpName(log), seq);
}

/**
 * One look: hold and arm (holdLiveLog), then what conmon rotated away becomes `.1`…, the others
 * shift; rotated files past `maxFiles` are removed (all of them, and the holds, for 0). Returns
 * whether anything moved.
 */
export async function keepRotatedLogs(
  log: string,
  maxFiles: number,
  lock: () => Promise<LogLock>,
): Promise<boolean> {
  const taken = await lock();
  try {
    if (maxFiles > 0) await holdLiveLog(log);
    return await shiftLogs(log, maxFiles);
  } finally {
    await taken.release();
  }
}

interface Hold {
  seq: number;
  name: string;
  st: Stats;
}

/** The live file, conmon's tmp file, the rotated numbers, and berth's holds (by seq). */
async function inspectLogs(log: string) {
  const base = basename(log);
  let entries: string[] = [];
  try {
    entries = await readdir(dirname(log));
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  const numbered: number[] = [];
  const seqs: number[] = [];
  for (const e of entries) {
    const n = parseRotatedNumber(base, e);
    if (n !== undefined) numbered.push(n);
    const s = parseHoldSeq(base, e);
    if (s !== undefined) seqs.push(s);
  }
  seqs.sort((a, b) => a - b);
  const [live, tmp, ...held] = await Promise.all(
    [log, conmonTmpName(log), ...seqs.map((s) => holdLogName(log, s))].map(lstatOrNone),
  );
  const holds: Hold[] = [];
  const odd: string[] = [];
  seqs.forEach((seq, i) => {
    const st = held[i];
    if (st?.isFile()) holds.push({ seq, name: holdLogName(log, seq), st });
    else if (st) odd.push(holdLogName(log, seq));
  });
  return { live, tmp, numbered, holds, odd, maxSeq: seqs.at(-1) ?? 0 };
}

/**
 * The holds conmon has rotated away, oldest first: neither the live file nor the armed one, with
 * content (an armed file never used is empty). An inode's age is its first hold's seq (an older
 * file was held before a newer one was armed); `dupes` are the other names: the later holds of one
 * inode (two processes holding at once), and empty files rotated away.
 */
function rotatedAway(seen: Awaited<ReturnType<typeof inspectLogs>>): { pending: Hold[]; dupes: Hold[] } {
  const byIno = new Map<number, Hold>();
  const dupes: Hold[] = [];
  for (const h of seen.holds) {
    if (byIno.has(h.st.ino)) dupes.push(h);
    else byIno.set(h.st.ino, h); // seen.holds is in seq order
  }
  const pending: Hold[] = [];
  for (const h of byIno.values()) {
    if (h.st.ino === seen.live?.ino || h.st.ino === seen.tmp?.ino) continue;
    if (h.st.size === 0) dupes.push(h);
    else pending.push(h);
  }
  return { pending, dupes };
}

async function shiftLogs(log: string, maxFiles: number): Promise<boolean> {
  const seen = await inspectLogs(log);
  if (maxFiles === 0) {
    const stale = [
      ...seen.holds.map((h) => h.name),
      ...seen.odd,
      ...seen.numbered.map((n) => rotatedLogName(log, n)),
    ];
    await Promise.all(stale.map((f) => rm(f, { force: true })));
    return stale.length > 0;
  }
  const { pending, dupes } = rotatedAway(seen);
  const stale = [...seen.odd, ...dupes.map((h) => h.name)];
  for (const f of stale) await rm(f, { force: true });
  const plan = planLogShift(log, seen.numbered, pending.map((h) => h.name).reverse(), maxFiles);
  for (const f of plan.remove) await rm(f, { force: true });
  for (const r of plan.renames) await rename(r.from, r.to);
  return stale.length + plan.remove.length + plan.renames.length > 0;
}

/** Every file of the log with content, oldest first: rotated ones, held ones rotated away, the live one. */
export async function listLogFiles(log: string): Promise<string[]> {
  const seen = await inspectLogs(log);
  const files = [...seen.numbered].sort((a, b) => b - a).map((n) => rotatedLogName(log, n));
  files.push(...rotatedAway(seen).pending.map((h) => h.name));
  if (seen.live) files.push(log);
  return files;
}

/** Opens a log file for reading, never through a symbolic link; undefined when it is gone. */
export async function openLogFile(file: string) {
  try {
    return await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ELOOP') return undefined;
    throw err;
  }
}

/** `from` held under the first free seq after `after`: that seq, or undefined when `from` is gone. */
async function linkNewHold(log: string, from: string, after: number): Promise<number | undefined> {
  for (let seq = after + 1; seq < after + 1000; seq++) {
    try {
      await link(from, holdLogName(log, seq));
      return seq;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined; // conmon took its tmp file meanwhile
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
  }
  return undefined;
}

async function lstatOrNone(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
