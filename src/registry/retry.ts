// Bounded retries with exponential back-off and full jitter. Only transient errors (kind
// 'unavailable') are retried; a Retry-After the server sent is honoured up to the cap.
import { isRetryable } from '../lib/errors.js';
import { RetryAfterError } from './errors.js';

export interface RetryPolicy {
  retries: number;
  baseMs: number;
  maxMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export function backoffDelay(policy: RetryPolicy, attempt: number, err: unknown): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
  const jittered = Math.round(policy.random() * ceiling);
  if (err instanceof RetryAfterError && err.retryAfterMs !== undefined) {
    return Math.min(policy.maxMs, Math.max(jittered, err.retryAfterMs));
  }
  return jittered;
}

/**
 * Run `attempt` until it succeeds or fails for good. `attempt` reports whether it made progress
 * (bytes arrived) through `progressed`: progress resets the count, so a flaky link that keeps
 * delivering keeps going, while `hardCap` bounds the total.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  attempt: (progressed: () => void) => Promise<T>,
  hardCap = 100,
): Promise<T> {
  let failures = 0;
  for (let total = 0; ; total++) {
    let made = false;
    try {
      return await attempt(() => {
        made = true;
      });
    } catch (err) {
      if (made) failures = 0;
      if (!isRetryable(err) || failures >= policy.retries || total >= hardCap || signal?.aborted) throw err;
      await policy.sleep(backoffDelay(policy, failures, err));
      failures++;
    }
  }
}
