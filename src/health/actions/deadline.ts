// The bound every action runs under: the caller's abort signal and the action's timeout, as one
// signal, and the message a handler reports when it fired. Handlers never outlive it. Probes make
// hundreds of these a second, so it is one AbortController and one timer, both let go at
// `dispose()` (AbortSignal.timeout + AbortSignal.any left a timer per probe pending to fire a
// DOMException a period later).
import { setLongTimeout } from '../../lib/long-timeout.js';
import type { ActionResult } from '../action.js';

export interface Deadline {
  signal: AbortSignal;
  /** What to report when `signal` fired: `timed out after 1 s` or `aborted`. */
  reason(): ActionResult;
  /** The action is over: clear the timer and stop listening to the caller's signal. */
  dispose(): void;
}

/** `1000` → `1`, `1500` → `1.5`: seconds as people write them. */
export function formatSeconds(ms: number): string {
  return `${Math.round(ms) / 1000}`;
}

export function createDeadline(timeoutMs: number, outer?: AbortSignal): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const onOuter = () => controller.abort();
  const timer = setLongTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  if (outer?.aborted) controller.abort();
  else outer?.addEventListener('abort', onOuter, { once: true });
  return {
    signal: controller.signal,
    reason: () =>
      timedOut
        ? { ok: false, message: `timed out after ${formatSeconds(timeoutMs)} s` }
        : { ok: false, message: 'aborted' },
    dispose: () => {
      timer.clear();
      outer?.removeEventListener('abort', onOuter);
    },
  };
}

/** Resolves when `signal` fires (never when it does not). */
export function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
