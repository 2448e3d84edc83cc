// One timer per moment rather than one per probe: callbacks due in the same slot (the time rounded
// up to a multiple of slotMs) share a single timer and run together. A probe alone wakes the event
// loop several times (its timer, the connect, the answer); probes that run together share those
// wake-ups, and 100 pods whose probes were spread over the second cost three times the CPU of the
// same probes run together (measured: 0.46 against 0.155 ms per probe). A probe runs at most
// slotMs late, well within the kubelet's own looseness (its workers tick from when they start, not
// from the container's start). The timers are passed in, so the logic is tested without waiting.

import { type LongTimeout, setLongTimeout } from '../lib/long-timeout.js';

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** Node's timers, for any delay (a probe's period or initial delay may pass 24.8 days). */
export const nodeTimers: Timers = {
  set: (fn, ms) => setLongTimeout(fn, ms),
  clear: (handle) => (handle as LongTimeout).clear(),
};

export interface TickWheel {
  /** Runs `fn` at the first slot boundary at or after `at` (ms epoch); the result cancels it. */
  add(at: number, fn: () => void): () => void;
  /** Cancels everything. */
  clear(): void;
  /** How many slots have a timer (for tests). */
  slots(): number;
}

/** The slot `at` falls in: the first multiple of `slotMs` at or after it. */
export function slotOf(at: number, slotMs: number): number {
  return Math.ceil(at / slotMs) * slotMs;
}

export function createTickWheel(o: { slotMs: number; now(): number; timers?: Timers }): TickWheel {
  const timers = o.timers ?? nodeTimers;
  const slots = new Map<number, { handle: unknown; fns: Set<() => void> }>();
  const fire = (slot: number) => {
    const s = slots.get(slot);
    slots.delete(slot);
    if (s) for (const fn of s.fns) fn();
  };
  return {
    add(at, fn) {
      const slot = slotOf(at, o.slotMs);
      let s = slots.get(slot);
      if (!s) {
        s = { handle: timers.set(() => fire(slot), Math.max(0, slot - o.now())), fns: new Set() };
        slots.set(slot, s);
      }
      // A wrapper of its own, so the same fn added twice is two entries and one cancel removes one.
      const entry = () => fn();
      s.fns.add(entry);
      const own = s;
      return () => {
        if (!own.fns.delete(entry) || own.fns.size > 0 || slots.get(slot) !== own) return;
        timers.clear(own.handle);
        slots.delete(slot);
      };
    },
    clear() {
      for (const s of slots.values()) timers.clear(s.handle);
      slots.clear();
    },
    slots: () => slots.size,
  };
}
