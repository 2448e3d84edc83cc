import { BerthError } from './errors.js';

/**
 * At most `limit` holders at once; `run` waits for a slot. With a `signal`, one that waited for its
 * slot while the signal was aborted does not run (ERR_STOPPING): a stop lets nothing queued start.
 */
export function createSemaphore(
  limit: number,
  o: { signal?: AbortSignal } = {},
): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      if (o.signal?.aborted) throw new BerthError('ERR_STOPPING', 'unavailable', 'berth is stopping');
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
