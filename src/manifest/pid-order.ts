// The order the writer check (open-writers.ts) looks at processes in, and which of them were started
// while it looked. Newest first: the writer of a file changed a moment ago most likely started a
// moment ago. Newest is counted back from the last PID the kernel handed out, round pid_max: PIDs
// are handed out in a cycle, and on a host with pid_max 32768 (the kernel's default) a busy hour
// wraps them, so the highest number is not the newest process. Pure.

/** The last PID the kernel handed out, and the cycle it counts in (pid_max). */
export interface PidCycle {
  last: number;
  max: number;
}

/** How long ago (in PIDs handed out) `pid` was handed out, as seen from `at`. */
const age = (pid: string, at: PidCycle) => (((at.last - Number(pid)) % at.max) + at.max) % at.max;

/**
 * `pids` newest first: by how far back from `at.last` each was handed out, round `at.max` (the
 * highest number first when that is unknown).
 */
export function newestFirst(pids: string[], at: PidCycle | undefined): string[] {
  const key = (p: string) => (at ? age(p, at) : -Number(p));
  return [...pids].sort((a, b) => key(a) - key(b));
}

/**
 * Of `pids`, those handed out after `from.last` up to `to.last` (round the cycle), newest first:
 * the processes started since a list was taken at `from`.
 */
export function startedSince(pids: string[], from: PidCycle, to: PidCycle): string[] {
  const span = age(String(from.last), to);
  return newestFirst(
    pids.filter((p) => age(p, to) < span),
    to,
  );
}
