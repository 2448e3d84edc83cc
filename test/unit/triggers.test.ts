import { describe, expect, it } from 'vitest';
import { PassScheduler } from '../../src/daemon/triggers.js';

describe('pass scheduling', () => {
  it('resyncs on its interval when nothing happens', () => {
    const s = new PassScheduler(150, 30_000);
    s.passStarted(1000);
    expect(s.dueAt()).toBe(31_000);
  });
  it('a burst of triggers is one pass, a debounce after the first', () => {
    const s = new PassScheduler(150, 30_000);
    s.passStarted(1000);
    s.trigger(2000);
    s.trigger(2100);
    expect(s.dueAt()).toBe(2150);
    s.passStarted(2150);
    expect(s.dueAt()).toBe(32_150);
  });
  it('wakes for the earliest back-off end', () => {
    const s = new PassScheduler(150, 30_000);
    s.passStarted(0);
    s.wakeAt(20_000);
    s.wakeAt(12_000);
    expect(s.dueAt()).toBe(12_000);
  });
});
