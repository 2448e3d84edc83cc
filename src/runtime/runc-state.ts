// A container's runc state read from runc's own files, without running runc: `state.json` gives
// the init process and its start time; the process is alive if /proc/<pid>/stat shows that start
// time (a recycled pid does not); `exec.fifo` is there until `runc start`. One pass over 100
// containers costs file reads, not 100 process spawns; they are synchronous (a few µs each, where
// an async round trip costs ~60 µs of mostly CPU), and state.json is parsed again only when it changes.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../lib/errors.js';

export type LiveState = 'created' | 'running' | 'stopped';

/** Field 22 of /proc/<pid>/stat (the start time), or undefined if the process is gone. */
export function startTimeOf(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const v = Number(fields[19]); // field 22 overall: the 20th after "pid (comm) "
  return Number.isFinite(v) ? v : undefined;
}

/**
 * What a long-lived process (the daemon) keeps between passes: state.json's init process, by mtime,
 * and whether that process was seen started (runc removes `exec.fifo` at start and never makes it
 * again for the same init: running never goes back to created).
 */
export type StateCache = Map<string, { mtimeMs: number; pid: number; start: number; started?: boolean }>;

const statBuffer = Buffer.alloc(1024);

/** /proc/<pid>/stat (open, one read, close: readFileSync would stat it and read twice). */
function readProcStat(pid: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/stat`, 'r');
  } catch {
    return undefined; // no such process
  }
  try {
    // The line is under 1 KiB (comm is at most 16 bytes, the rest 50 numbers); a longer one would
    // be cut, and parse as no start time: as if gone, never as running.
    const n = readSync(fd, statBuffer, 0, statBuffer.length, 0);
    return statBuffer.toString('latin1', 0, n);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** state.json's init process fields, or undefined when it is no JSON object (empty, cut short). */
function parseState(text: string): { init_process_pid?: number; init_process_start?: number } | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** An init process no process has: a state file that does not parse says nothing runs by runc's word. */
const UNREADABLE = { pid: 0, start: -1 } as const;

/**
 * The containers among `ids` whose state.json is there but unreadable, for a warning naming each
 * file. Their live state reads as stopped: the caller goes by conmon (alive: running, as far as
 * anyone can tell; gone: exited), so only that container is in doubt, never a whole pass.
 */
export function unreadableStates(
  runcRoot: string,
  ids: readonly string[],
): Array<{ id: string; path: string }> {
  const out: Array<{ id: string; path: string }> = [];
  for (const id of ids) {
    const path = join(runcRoot, id, 'state.json');
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue; // gone (removed, never started) or unreadable by anyone: not this warning's
    }
    if (parseState(text) === undefined) out.push({ id, path });
  }
  return out;
}

/** One warning line per unreadable runc state file. */
export function formatUnreadableStates(bad: ReadonlyArray<{ id: string; path: string }>): string {
  return bad
    .map(
      (b) =>
        `warning: container ${b.id}: ${b.path}: runc's state is not JSON (its state is read from conmon alone; berth container rm --force ${b.id} removes it)\n`,
    )
    .join('');
}

function initProcess(
  file: string,
  cache?: StateCache,
): { pid: number; start: number; started?: boolean } | undefined {
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st) return undefined;
  const mtimeMs = st.mtimeMs;
  const hit = cache?.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  const s = parseState(text);
  if (s === undefined) return UNREADABLE; // not cached: read again until it parses
  const found = { mtimeMs, pid: s.init_process_pid ?? 0, start: s.init_process_start ?? -1 };
  cache?.set(file, found);
  return found;
}

export async function readLiveState(
  runcRoot: string,
  id: string,
  cache?: StateCache,
): Promise<{ state: LiveState; pid: number | null } | undefined> {
  const init = initProcess(join(runcRoot, id, 'state.json'), cache);
  if (!init) return undefined;
  const { pid } = init;
  const stat = pid > 0 ? readProcStat(pid) : undefined;
  if (!stat || startTimeOf(stat) !== init.start || / Z /.test(stat.slice(stat.lastIndexOf(')')))) {
    return { state: 'stopped', pid: null };
  }
  if (init.started) return { state: 'running', pid };
  const created = existsSync(join(runcRoot, id, 'exec.fifo'));
  if (!created && cache?.get(join(runcRoot, id, 'state.json')) === init) init.started = true;
  return { state: created ? 'created' : 'running', pid };
}
