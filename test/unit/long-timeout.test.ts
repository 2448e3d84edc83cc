// Delays past 2^31-1 ms (24.8 days) wait, not fire after 1 ms as Node's setTimeout does (vitest's
// fake timers overflow the same way): lib/long-timeout.ts and every timer a manifest's seconds
// reach: the prober's tick wheel (periodSeconds, initialDelaySeconds), an action's deadline
// (timeoutSeconds, a hook's grace period), the sleep hook, and the one-shot apply's wake-up at a
// wait's end (activeDeadlineSeconds). Regression: periodSeconds 2200000 ran a probe ~700 times a
// second; timeoutSeconds 2200000 failed every probe at once; a 365-day sleep hook ended at once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDeadline } from '../../src/health/actions/deadline.js';
import { runSleep } from '../../src/health/actions/sleep.js';
import { createTickWheel } from '../../src/health/tick-wheel.js';
import { MAX_TIMER_MS, setLongTimeout } from '../../src/lib/long-timeout.js';
import { watchForWork } from '../../src/reconcile/wake.js';

const LONG_MS = 2_200_000 * 1000; // a probe's periodSeconds: 2200000, past 2^31-1 ms

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('setLongTimeout', () => {
  it('fires once, after the whole delay, for a delay past 2^31-1 ms', () => {
    const fn = vi.fn();
    setLongTimeout(fn, LONG_MS);
    vi.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(LONG_MS - MAX_TIMER_MS - 1001);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(LONG_MS * 2);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('fires short delays as setTimeout does, and negative or NaN ones at once', () => {
    const fn = vi.fn();
    setLongTimeout(fn, 10);
    setLongTimeout(fn, -5);
    setLongTimeout(fn, Number.NaN);
    vi.advanceTimersByTime(0);
    expect(fn).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(10);
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('is cancelled by clear, before or after its first chunk', () => {
    const early = vi.fn();
    const late = vi.fn();
    setLongTimeout(early, LONG_MS).clear();
    const t = setLongTimeout(late, LONG_MS);
    vi.advanceTimersByTime(MAX_TIMER_MS + 1);
    t.clear();
    vi.advanceTimersByTime(LONG_MS);
    expect(early).not.toHaveBeenCalled();
    expect(late).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never fires an infinite delay', () => {
    const fn = vi.fn();
    const t = setLongTimeout(fn, Number.POSITIVE_INFINITY);
    vi.advanceTimersByTime(MAX_TIMER_MS * 5);
    expect(fn).not.toHaveBeenCalled();
    t.clear();
  });
});

describe('timers set from manifest seconds', () => {
  it('the tick wheel runs a probe due in 2200000 s then, not at once', () => {
    const wheel = createTickWheel({ slotMs: 250, now: () => Date.now() });
    const fn = vi.fn();
    wheel.add(Date.now() + LONG_MS, fn);
    vi.advanceTimersByTime(MAX_TIMER_MS + 1000);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(LONG_MS);
    expect(fn).toHaveBeenCalledTimes(1);
    wheel.clear();
  });

  it('a tick wheel slot cancelled before its time frees its timer', () => {
    const wheel = createTickWheel({ slotMs: 250, now: () => Date.now() });
    const cancel = wheel.add(Date.now() + LONG_MS, () => {});
    vi.advanceTimersByTime(MAX_TIMER_MS + 1);
    cancel();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a deadline of 2200000 s has not fired after a second, and fires then', () => {
    const d = createDeadline(LONG_MS);
    vi.advanceTimersByTime(1000);
    expect(d.signal.aborted).toBe(false);
    vi.advanceTimersByTime(LONG_MS);
    expect(d.signal.aborted).toBe(true);
    expect(d.reason().message).toBe('timed out after 2200000 s');
    d.dispose();
  });

  it('a disposed long deadline leaves no timer', () => {
    const d = createDeadline(LONG_MS);
    vi.advanceTimersByTime(MAX_TIMER_MS + 1);
    d.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a sleep hook of 31536000 s sleeps, cut only by its deadline', async () => {
    const d = createDeadline(5000);
    let result: unknown;
    void runSleep(31_536_000, d).then((r) => {
      result = r;
    });
    await vi.advanceTimersByTimeAsync(1000);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(4000);
    expect(result).toEqual({ ok: false, message: 'timed out after 5 s' });
    d.dispose();
  });

  it('a sleep hook of 31536000 s under a longer deadline ends after 31536000 s', async () => {
    const d = createDeadline(40_000_000_000);
    let result: unknown;
    void runSleep(31_536_000, d).then((r) => {
      result = r;
    });
    await vi.advanceTimersByTimeAsync(31_536_000_000 - 1);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(result).toEqual({ ok: true, message: 'slept 31536000 s' });
    d.dispose();
  });

  it("a one-shot apply's wake-up at a wait's end past 24.8 days waits for it", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-long-wake-'));
    const wake = await watchForWork(dir);
    try {
      let woke = false;
      void wake.next(wake.mark(), Date.now() + LONG_MS).then(() => {
        woke = true;
      });
      await vi.advanceTimersByTimeAsync(1000);
      expect(woke).toBe(false);
      await vi.advanceTimersByTimeAsync(LONG_MS);
      expect(woke).toBe(true);
    } finally {
      wake.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
