// When a container that exited should run again, and after how long: the kubelet's rules, for the
// reconciler. A container's restart rules (Kubernetes 1.34 restartPolicyRules) are tried first, in
// order: the first whose exit codes match restarts it. Then its policy: Always restarts whatever the
// exit; OnFailure only after a non-zero exit; Never never. An exit with no code (lost with the host)
// matches no rule.
// The delay starts at 10 s and doubles up to 5 min; a container that ran 10 min before exiting is
// considered healthy again and starts over at 10 s. Pure: times are passed in.

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export const INITIAL_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 5 * 60_000;
export const RESET_AFTER_MS = 10 * 60_000;

/** One restartPolicyRules entry (its action is Restart, the only one berth knows). */
export interface RestartRule {
  operator: 'In' | 'NotIn';
  values: number[];
}

/** The first of `rules` the exit code matches, if any. */
export function matchingRule(
  rules: readonly RestartRule[],
  exitCode: number | null,
): RestartRule | undefined {
  if (exitCode === null) return undefined;
  return rules.find((r) => r.values.includes(exitCode) === (r.operator === 'In'));
}

export function shouldRestart(
  policy: RestartPolicy,
  exitCode: number | null,
  rules: readonly RestartRule[] = [],
): boolean {
  if (matchingRule(rules, exitCode)) return true;
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return exitCode !== 0;
  return false;
}

export interface BackoffState {
  /** The delay used before the last restart (0: none yet). */
  delayMs: number;
}

/** The delay before the next start, given how long the last run lasted. */
export function nextBackoff(state: BackoffState, ranForMs: number): BackoffState {
  if (state.delayMs === 0 || ranForMs >= RESET_AFTER_MS) return { delayMs: INITIAL_BACKOFF_MS };
  return { delayMs: Math.min(MAX_BACKOFF_MS, state.delayMs * 2) };
}

/**
 * When the back-off after an exit at `exitedAt` ends, or undefined once it is over (all times in
 * ms, wall clock). An exit recorded ahead of `now` was recorded before the clock went back (NTP
 * correcting a clock that ran ahead; a node without an RTC): how long ago it was cannot be told, so
 * the back-off counts as over instead of lasting until the clock catches up, maybe years.
 */
export function backoffEndsAt(exitedAt: number, delayMs: number, now: number): number | undefined {
  if (exitedAt > now || now >= exitedAt + delayMs) return undefined;
  return exitedAt + delayMs;
}

/** Whether the container may start again at `now` (all times in ms). */
export function restartDue(exitedAt: number, state: BackoffState, now: number): boolean {
  return backoffEndsAt(exitedAt, state.delayMs, now) === undefined;
}
