// What /proc says of processes' open files, for the writer check (open-writers.ts): the PIDs, the
// last PID handed out, each process's descriptors and where they point, and whether one is open for
// writing (`flags:` in fdinfo). A process gone or unreadable between two reads is skipped: every
// read here answers "nothing" rather than fail.
//
// A descriptor's link names its file as seen from the process's own root: a container's process
// that opened `/etc/berth/manifests/web.yaml` in its own root file system shows that very path
// here. So a path is only a hint; a writer counts only when the descriptor's file is the target
// itself (device and inode, through the link as the kernel follows it).
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PidCycle } from './pid-order.js';

/** O_WRONLY | O_RDWR: the access-mode bits of `flags:` in /proc/PID/fdinfo/FD (octal). */
const WRITE_MODES = 0o3;

/** The PIDs /proc lists, `self` aside; none when it cannot be listed. */
export function listPids(proc: string, self: number): string[] {
  try {
    return readdirSync(proc).filter((p) => /^[0-9]+$/.test(p) && p !== String(self));
  } catch {
    return [];
  }
}

/** The last PID the kernel handed out (/proc/loadavg) and pid_max; undefined when /proc says neither. */
export function lastPid(proc: string): PidCycle | undefined {
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

/** `pid`'s descriptors (`[fd, target]`) whose target `wanted` accepts. */
export function openFilesOf(
  proc: string,
  pid: string,
  wanted: (target: string) => boolean,
): Array<[fd: string, target: string]> {
  let fds: string[];
  try {
    fds = readdirSync(join(proc, pid, 'fd'));
  } catch {
    return []; // gone, or not ours to read
  }
  const found: Array<[string, string]> = [];
  for (const fd of fds) {
    try {
      const target = readlinkSync(join(proc, pid, 'fd', fd));
      if (wanted(target)) found.push([fd, target]);
    } catch {
      // closed meanwhile
    }
  }
  return found;
}

/** Whether `pid` has `target` open for writing as `fd` now (not closed, nor the number reused). */
export function isOpenForWriting(proc: string, pid: string, fd: string, target: string): boolean {
  try {
    const link = join(proc, pid, 'fd', fd);
    if (readlinkSync(link) !== target || !isSameFile(link, target)) return false;
    const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(join(proc, pid, 'fdinfo', fd), 'utf8'))?.[1];
    return flags !== undefined && (Number.parseInt(flags, 8) & WRITE_MODES) !== 0;
  } catch {
    return false;
  }
}

/** Whether descriptor link `link` (followed) is the file `target` names here. */
function isSameFile(link: string, target: string): boolean {
  const a = statSync(link, { bigint: true });
  const b = statSync(target, { bigint: true });
  return a.dev === b.dev && a.ino === b.ino;
}
