// Whether a process on this host still has a file open for writing: `scp` and `cp` write a file in
// place, in pieces, and a pause between two pieces can leave a text that parses cleanly, ends its
// last line and defines everything the old one did (an `env` list cut after its first entry), which
// no rule on the text alone tells from an edit (settle.ts). The writer's open descriptor does.
// Read from /proc (every process's `fd/` links, and `fdinfo/` for the access mode of a match): a
// few milliseconds for a few hundred processes, so only asked of a file changed a moment ago.
// A writer in another mount namespace (a container writing through a bind) names another path and
// is not seen; a process gone or unreadable between the listing and the read is skipped.
// Bounded: the listing runs on the daemon's thread, again every WRITER_POLL_MS while a file is held,
// and a host of 2000 processes with 10 descriptors each took 450-900 ms per pass. It stops after
// SCAN_BUDGET_MS, newest processes first (the writer of a file changed a moment ago most likely
// started a moment ago); a writer among the processes not reached is not seen (as if none). Newest
// is counted back from the last PID the kernel gave (/proc/loadavg), round pid_max: PIDs are handed
// out in a cycle, and on a host with pid_max 32768 (the kernel's default) a busy hour wraps them,
// so the highest number is not the newest process.
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

/** The most time one pass over /proc may take. */
export const SCAN_BUDGET_MS = 50;

/** O_WRONLY | O_RDWR: the access-mode bits of `flags:` in /proc/PID/fdinfo/FD (octal). */
const WRITE_MODES = 0o3;

function opensForWriting(proc: string, pid: string, fd: string): boolean {
  try {
    const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(join(proc, pid, 'fdinfo', fd), 'utf8'))?.[1];
    return flags !== undefined && (Number.parseInt(flags, 8) & WRITE_MODES) !== 0;
  } catch {
    return false;
  }
}

/** The last PID the kernel handed out and the cycle it counts in; undefined when /proc says neither. */
function lastPid(proc: string): { last: number; max: number } | undefined {
  try {
    const last = Number(
      readFileSync(join(proc, 'loadavg'), 'utf8').trim().split('/').pop()?.split(/\s+/).pop(),
    );
    const max = Number(readFileSync(join(proc, 'sys', 'kernel', 'pid_max'), 'utf8').trim());
    return Number.isInteger(last) && Number.isInteger(max) && max > 0 ? { last, max } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `pids` newest first: by how far back from `at.last` each was handed out, round `at.max` (the
 * highest number first when that is unknown). Pure.
 */
export function newestFirst(pids: string[], at: { last: number; max: number } | undefined): string[] {
  const age = (p: string) => (at ? (((at.last - Number(p)) % at.max) + at.max) % at.max : -Number(p));
  return [...pids].sort((a, b) => age(a) - age(b));
}

/** Each open descriptor's target, with where it is (`pid`, `fd`): one pass over /proc, newest first, bounded. */
function openTargets(proc: string): Map<string, Array<[string, string]>> {
  const targets = new Map<string, Array<[string, string]>>();
  const self = String(process.pid);
  const deadline = performance.now() + SCAN_BUDGET_MS;
  const pids = newestFirst(
    readdirSync(proc).filter((p) => /^[0-9]+$/.test(p) && p !== self),
    lastPid(proc),
  );
  for (const pid of pids) {
    if (performance.now() > deadline) break;
    let fds: string[];
    try {
      fds = readdirSync(join(proc, pid, 'fd'));
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        const link = readlinkSync(join(proc, pid, 'fd', fd));
        if (link.startsWith('/')) targets.set(link, [...(targets.get(link) ?? []), [pid, fd]]);
      } catch {
        // closed meanwhile
      }
    }
  }
  return targets;
}

/**
 * A check of whether any process (this one aside) has a file open for writing, false when it cannot
 * be told. /proc is read once, at the first question: one check serves one load of the folder.
 */
export function createWriterCheck(proc = '/proc'): (file: string) => boolean {
  let targets: Map<string, Array<[string, string]>> | undefined;
  return (file) => {
    let target: string;
    try {
      target = realpathSync(file);
    } catch {
      return false;
    }
    targets ??= openTargets(proc);
    return (targets.get(target) ?? []).some(([pid, fd]) => opensForWriting(proc, pid, fd));
  };
}
