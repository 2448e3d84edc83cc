// Bounded retries with exponential back-off and full jitter. Only transient errors (kind
// 'unavailable') are retried; a Retry-After the server sent is honoured up to the cap. An abort
// ends the wait at once.
import { BerthError, isRetryable } from '../lib/errors.js';
import { RetryAfterError } from './errors.js';

export interface RetryPolicy {
  /** Failed attempts retried after the first, counted since the last progress. */
  retries: number;
  baseMs: number;
  maxMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

/** Full jitter: uniform in [0, min(max, base·2^attempt)]; at least Retry-After, never above max. */
export function backoffDelay(policy: RetryPolicy, attempt: number, err: unknown): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
  const jittered = Math.round(policy.random() * ceiling);
  if (err instanceof RetryAfterError && err.retryAfterMs !== undefined) {
    return Math.min(policy.maxMs, Math.max(jittered, err.retryAfterMs));
  }
  return jittered;
}

function aborted(what: string, signal: AbortSignal): BerthError {
  return new BerthError('ERR_ABORTED', 'internal', `${what}: aborted`, { cause: signal.reason });
}

async function sleepUnlessAborted(policy: RetryPolicy, ms: number, signal: AbortSignal | undefined) {
  if (!signal) return policy.sleep(ms);
  let onAbort: (() => void) | undefined;
  const abortedWait = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([policy.sleep(ms), abortedWait]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Run `attempt` until it succeeds or fails for good. `attempt` reports progress (new bytes) through
 * `progressed`: progress resets the failure count, so a flaky link that keeps delivering keeps
 * going, while `hardCap` bounds the total number of attempts.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  what: string,
  attempt: (progressed: () => void) => Promise<T>,
  hardCap = 100,
): Promise<T> {
  let failures = 0;
  for (let total = 0; ; total++) {
    if (signal?.aborted) throw aborted(what, signal);
    let made = false;
    try {
      return await attempt(() => {
        made = true;
      });
    } catch (err) {
      if (signal?.aborted) throw aborted(what, signal);
      if (made) failures = 0;
      if (!isRetryable(err) || failures >= policy.retries || total >= hardCap) throw err;
      await sleepUnlessAborted(policy, backoffDelay(policy, failures, err), signal);
      failures++;
    }
  }
}
