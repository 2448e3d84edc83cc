// Failed actions, remembered between passes, so that a pod or a pull that fails backs off (10 s,
// doubling to 5 min, as the kubelet does) instead of being retried on every pass, and so that
// `berth ps` can say why a pod is not running. Keyed `pod/<name>` and `image/<ref>`. A pod's entry
// holds the fingerprint of its manifest when it failed: an edit of the pod retries it at once.
// Pure: the clock is passed in.
import { createHash } from 'node:crypto';
import { formatErrorLine, isBerthError } from '../lib/errors.js';
import { updateJson } from '../lib/json-hash.js';
import { INITIAL_BACKOFF_MS, MAX_BACKOFF_MS } from '../runtime/restart.js';
import type { DesiredPod } from './desired.js';
import type { Action, Failure, Failures } from './plan-types.js';
import type { TaskOutcome } from './tasks.js';

export type { Failure, Failures } from './plan-types.js';

export const podKey = (pod: string) => `pod/${pod}`;
export const imageKey = (image: string) => `image/${image}`;

export function failureKey(a: Action): string {
  return a.kind === 'pull' ? imageKey(a.image) : podKey(a.pod);
}

/**
 * What identifies a pod's manifest: a change of any field makes a new fingerprint. Its JSON is hashed
 * piece by piece (the same digest as of one string): a pod too big for one string is still a pod
 * whose failure is recorded, not a pass that ends.
 */
export function podFingerprint(pod: DesiredPod): string {
  return updateJson(createHash('sha256'), pod).digest('hex').slice(0, 16);
}

export function backoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** Math.max(0, attempts - 1));
}

/**
 * The failure that holds `key` back at `now`, if any (a pod's only while its manifest is the same).
 * One recorded ahead of `now` was recorded before the clock went back: it holds no more, so a
 * back-off never outlasts its own length (5 min at most) whatever the wall clock did.
 */
export function activeFailure(
  failures: Failures,
  key: string,
  now: number,
  fingerprint?: string,
): Failure | undefined {
  const f = failures[key];
  if (!f || f.retryAt <= now || f.at > now) return undefined;
  if (fingerprint !== undefined && f.fingerprint !== fingerprint) return undefined;
  return f;
}

/** Whether `done`, another container's action of the same pod as it is, leaves failure `f` standing. */
function keepsAlone(f: Failure | undefined, done: Action, fingerprint: (pod: string) => string | undefined) {
  if (!f?.alone || done.kind === 'pull') return false;
  const its = 'container' in done && done.container === f.container;
  return !its && f.fingerprint === fingerprint(done.pod);
}

/**
 * The failures after a pass: each failed pod or pull counts one more attempt (a pod's count starts
 * over when its manifest changed); a pod or image whose actions all succeeded is cleared, but for a
 * container that failed alone (`alone`), whose back-off the others' actions do not end: only its
 * own action or an edit of the pod does; entries for what is neither wanted nor running any more are
 * dropped.
 */
export function recordPass(
  prev: Failures,
  outcome: TaskOutcome,
  o: {
    now: number;
    fingerprint: (pod: string) => string | undefined;
    live: Set<string>;
    /** berth is stopping: an action it aborted is not counted. */
    stopped?: boolean;
  },
): Failures {
  const next: Failures = {};
  for (const [key, f] of Object.entries(prev)) if (o.live.has(key)) next[key] = f;
  const failedKeys = new Set(outcome.failed.map((f) => failureKey(f.action)));
  for (const a of outcome.done) {
    const key = failureKey(a);
    if (!failedKeys.has(key) && !keepsAlone(next[key], a, o.fingerprint)) delete next[key];
  }
  for (const { action, error, alone } of outcome.failed) {
    // Cut short by berth's own stop (SIGTERM, SIGINT): not a failure of the action; nothing counted.
    if (o.stopped && isBerthError(error) && error.code === 'ERR_ABORTED') continue;
    const key = failureKey(action);
    const fingerprint = action.kind === 'pull' ? undefined : o.fingerprint(action.pod);
    const before = next[key];
    const attempts = before && before.fingerprint === fingerprint ? before.attempts + 1 : 1;
    next[key] = {
      ...(action.kind === 'pull' ? { for: action.for } : {}),
      ...('container' in action && action.container ? { container: action.container } : {}),
      ...(alone ? { alone } : {}),
      attempts,
      error: formatErrorLine(error),
      at: o.now,
      retryAt: o.now + backoffMs(attempts),
      ...(fingerprint ? { fingerprint } : {}),
    };
  }
  return next;
}
