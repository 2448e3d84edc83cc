// The prober's tick wheel (src/health/tick-wheel.ts) with timers passed in: callbacks due in the
// same slot share one timer and run together, cancels remove exactly their own entry, and a slot
// left empty frees its timer.
import { describe, expect, it } from 'vitest';
import { createTickWheel, slotOf, type Timers } from '../../src/health/tick-wheel.js';

/** Timers run by hand: `due` lists what is set, `run(i)` fires one. */
const manualTimers = () => {
  const set = new Map<number, { fn: () => void; ms: number }>();
  let next = 0;
  const timers: Timers = {
    set(fn, ms) {
      set.set(++next, { fn, ms });
      return next;
    },
    clear(handle) {
      set.delete(handle as number);
    },
  };
  return {
    timers,
    pending: () => [...set.values()].map((t) => t.ms),
    fireAll: () => {
      const all = [...set.entries()];
      set.clear();
      for (const [, t] of all) t.fn();
    },
  };
};

describe('tick wheel', () => {
  it('rounds a time up to its slot', () => {
    expect([0, 1, 249, 250, 251, 1000].map((t) => slotOf(t, 250))).toEqual([0, 250, 250, 250, 500, 1000]);
  });

  it('gives callbacks due in the same slot one timer, at the slot, and runs them together in order', () => {
    const m = manualTimers();
    const wheel = createTickWheel({ slotMs: 250, now: () => 10_000, timers: m.timers });
    const ran: string[] = [];
    wheel.add(10_001, () => ran.push('a'));
    wheel.add(10_200, () => ran.push('b'));
    wheel.add(10_250, () => ran.push('c'));
    wheel.add(10_251, () => ran.push('d'));
    expect(m.pending()).toEqual([250, 500]);
    expect(wheel.slots()).toBe(2);
    m.fireAll();
    expect(ran).toEqual(['a', 'b', 'c', 'd']);
    expect(wheel.slots()).toBe(0);
  });

  it('runs a time already past at once, in the current slot', () => {
    const m = manualTimers();
    const wheel = createTickWheel({ slotMs: 250, now: () => 10_100, timers: m.timers });
    wheel.add(9_000, () => {});
    expect(m.pending()).toEqual([0]);
  });

  it('cancels only its own entry (the same callback added twice stays once), and frees an emptied slot', () => {
    const m = manualTimers();
    const wheel = createTickWheel({ slotMs: 100, now: () => 0, timers: m.timers });
    let runs = 0;
    const fn = () => runs++;
    const first = wheel.add(50, fn);
    wheel.add(60, fn);
    first();
    first(); // twice is once
    expect(m.pending()).toEqual([100]);
    const lone = wheel.add(150, fn);
    expect(m.pending()).toEqual([100, 200]);
    lone();
    expect(m.pending()).toEqual([100]);
    expect(wheel.slots()).toBe(1);
    m.fireAll();
    expect(runs).toBe(1);
  });

  it('a cancel after its slot fired touches no later slot at the same time', () => {
    const m = manualTimers();
    const wheel = createTickWheel({ slotMs: 100, now: () => 0, timers: m.timers });
    const stale = wheel.add(100, () => {});
    m.fireAll();
    wheel.add(100, () => {});
    stale();
    expect(m.pending()).toEqual([100]);
    expect(wheel.slots()).toBe(1);
  });

  it('clear cancels every slot', () => {
    const m = manualTimers();
    const wheel = createTickWheel({ slotMs: 100, now: () => 0, timers: m.timers });
    wheel.add(10, () => {});
    wheel.add(510, () => {});
    wheel.clear();
    expect(m.pending()).toEqual([]);
    expect(wheel.slots()).toBe(0);
  });
});
