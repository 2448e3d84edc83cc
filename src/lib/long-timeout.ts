// setTimeout for any delay. Node fires a timer asked for more than 2^31-1 ms (24.8 days) after 1 ms,
// with a TimeoutOverflowWarning, and manifests give seconds that go past that (a probe's
// periodSeconds or timeoutSeconds, a sleep hook, a probe's grace period, activeDeadlineSeconds). A
// longer delay is waited out in timers of at most 2^31-1 ms, each armed when the one before fires, so
// it never fires early. An infinite delay never fires; a negative one or NaN fires at once (as
// setTimeout's 0). `unref()` holds for the later timers too.

/** The longest delay setTimeout honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimeout {
  /** Cancels it (nothing once it fired). */
  clear(): void;
  /** The timer does not keep the process alive. */
  unref(): LongTimeout;
}

export function setLongTimeout(fn: () => void, ms: number): LongTimeout {
  let left = Number.isNaN(ms) ? 0 : Math.max(0, ms);
  let refed = true;
  let timer: NodeJS.Timeout;
  const arm = () => {
    const step = Math.min(left, MAX_TIMER_MS);
    timer = setTimeout(() => {
      left -= step;
      if (left > 0) arm();
      else fn();
    }, step);
    if (!refed) timer.unref();
  };
  arm();
  const handle: LongTimeout = {
    clear: () => clearTimeout(timer),
    unref: () => {
      refed = false;
      timer.unref();
      return handle;
    },
  };
  return handle;
}
