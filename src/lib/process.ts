// Whether a process is alive, and names that say which process made a file so that liveness can
// be judged later. A pid alone is not enough: after a reboot (or a wrap of the pid counter) the
// pid of a dead berth belongs to some other process, and a lease, ingest file or temp directory
// named after it would look alive forever, holding GC back. An owner token is
// `<pid>-<start>-<boot>`: the process's start time (clock ticks since boot, /proc/<pid>/stat field
// 22) and the first 8 hex digits of this boot's id; the owner is alive only when all three match.
// A bare `<pid>` (names written before tokens) is still judged by the pid alone.
import { readFileSync } from 'node:fs';
import { errnoCode } from './errors.js';

/** The pattern of an owner token inside a file name (no capture groups). */
export const OWNER_PATTERN = '\\d+(?:-\\d+-[a-f0-9]{8})?';

/** Whether a process with this pid exists (EPERM: it exists but is not ours to signal). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

let bootIdCache: string | undefined;

/** This boot's id, 8 hex digits (changes at every boot). */
export function bootId(): string {
  bootIdCache ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').replace(/-/g, '').slice(0, 8);
  return bootIdCache;
}

/** When `pid` started, in clock ticks since boot; undefined when there is no such process. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 of the whole line
  } catch {
    return undefined;
  }
}

/** The owner token of `pid` (a bare pid when the process is already gone). */
export function ownerToken(pid: number = process.pid): string {
  const start = processStartTime(pid);
  return start === undefined ? String(pid) : `${pid}-${start}-${bootId()}`;
}

/** The pid of an owner token. */
export function ownerPid(token: string): number {
  return Number.parseInt(token, 10);
}

/** Whether the process an owner token names is still the one running (see the top of this file). */
export function isOwnerAlive(token: string): boolean {
  const m = /^(\d+)(?:-(\d+)-([a-f0-9]{8}))?$/.exec(token);
  if (!m) return false;
  const pid = Number(m[1]);
  if (m[3] !== undefined && m[3] !== bootId()) return false;
  if (!isProcessAlive(pid)) return false;
  return m[2] === undefined || processStartTime(pid) === m[2];
}
