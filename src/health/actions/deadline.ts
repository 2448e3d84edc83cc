// The bound every action runs under: the caller's abort signal and the action's timeout, as one
// signal, and the message a handler reports when it fired. Handlers never outlive it.
import type { ActionResult } from '../action.js';

export interface Deadline {
  signal: AbortSignal;
  /** What to report when `signal` fired: `timed out after 1 s` or `aborted`. */
  reason(): ActionResult;
}

/** `1000` → `1`, `1500` → `1.5`: seconds as people write them. */
export function formatSeconds(ms: number): string {
  return `${Math.round(ms) / 1000}`;
}

export function createDeadline(timeoutMs: number, outer?: AbortSignal): Deadline {
  const timeout = AbortSignal.timeout(Math.max(0, timeoutMs));
  const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
  return {
    signal,
    reason: () =>
      outer?.aborted && !timeout.aborted
        ? { ok: false, message: 'aborted' }
        : { ok: false, message: `timed out after ${formatSeconds(timeoutMs)} s` },
  };
}

/** Resolves when `signal` fires (never when it does not). */
export function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
