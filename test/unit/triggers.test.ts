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

describe('what a pass observes', () => {
  const files = (...f: string[]) => ({ files: new Set(f), pods: new Set<string>() });

  it('the first pass observes everything; one a file triggered, only that file', () => {
    const s = new PassScheduler(50, 30_000);
    expect(s.passStarted(1000)).toBe('all');
    s.trigger(2000, { files: ['/m/web.yaml'] });
    s.trigger(2010, { files: ['/m/db.yaml'] });
    s.trigger(2020, { pods: ['api'] }); // a task ended
    expect(s.dueAt()).toBe(2050);
    expect(s.passStarted(2050)).toEqual({
      files: new Set(['/m/web.yaml', '/m/db.yaml']),
      pods: new Set(['api']),
    });
  });

  it('a trigger that names nothing (a container exit) makes the pass observe everything', () => {
    const s = new PassScheduler(50, 30_000);
    s.passStarted(0);
    s.trigger(100, { files: ['/m/web.yaml'] });
    s.trigger(110);
    s.trigger(120, { files: ['/m/db.yaml'] });
    expect(s.passStarted(150)).toBe('all');
    s.trigger(200, { files: ['/m/db.yaml'] });
    expect(s.passStarted(250)).toEqual(files('/m/db.yaml'));
  });

  it('a wake naming a file (one still being written) observes that file alone, when it is due', () => {
    const s = new PassScheduler(50, 30_000);
    s.passStarted(0);
    s.wakeAt(500, { files: ['/m/web.yaml'] });
    s.wakeAt(900, { files: ['/m/db.yaml'] });
    expect(s.dueAt()).toBe(500);
    expect(s.passStarted(500)).toEqual(files('/m/web.yaml'));
    expect(s.dueAt()).toBe(900);
    s.trigger(880, { pods: ['api'] });
    expect(s.passStarted(930)).toEqual({ files: new Set(['/m/db.yaml']), pods: new Set(['api']) });
    expect(s.dueAt()).toBe(30_000);
    // A full pass meanwhile covers a wake that is due; one still ahead stays.
    s.wakeAt(1000, { files: ['/m/web.yaml'] });
    s.wakeAt(5000, { files: ['/m/db.yaml'] });
    s.trigger(1000);
    expect(s.passStarted(1050)).toBe('all');
    expect(s.dueAt()).toBe(5000);
  });

  it('a back-off end or an apply asked for (wakeAt) observes everything', () => {
    const s = new PassScheduler(50, 30_000);
    s.passStarted(0);
    s.trigger(100, { files: ['/m/web.yaml'] });
    s.wakeAt(120);
    expect(s.dueAt()).toBe(120);
    expect(s.passStarted(120)).toBe('all');
    s.wakeAt(10_000); // not reached yet: the file's pass stays scoped
    s.trigger(200, { files: ['/m/web.yaml'] });
    expect(s.passStarted(250)).toEqual(files('/m/web.yaml'));
  });

  it('scoped passes never postpone the resync: everything is observed resyncMs after the last full pass', () => {
    const s = new PassScheduler(50, 1000);
    expect(s.passStarted(0)).toBe('all');
    for (let t = 100; t < 1000; t += 100) {
      s.trigger(t, { files: ['/m/web.yaml'] });
      expect(s.dueAt()).toBe(t + 50);
      expect(s.passStarted(t + 50)).toEqual(files('/m/web.yaml'));
    }
    expect(s.dueAt()).toBe(1000); // from the full pass at 0, not from the scoped one at 950
    s.trigger(990, { files: ['/m/web.yaml'] });
    expect(s.passStarted(1000)).toBe('all');
    expect(s.dueAt()).toBe(2000);
  });

  it('a wall clock stepped back below the last full pass: the resync is due at once, and that pass is full', () => {
    const s = new PassScheduler(50, 1000);
    expect(s.passStarted(1_000_000)).toBe('all');
    // NTP steps the clock back an hour; file edits keep coming.
    const back = 1_000_000 - 3_600_000;
    expect(s.dueAt(back)).toBe(back);
    s.trigger(back, { files: ['/m/web.yaml'] });
    expect(s.passStarted(back + 50)).toBe('all');
    expect(s.dueAt(back + 60)).toBe(back + 50 + 1000);
    s.trigger(back + 100, { files: ['/m/web.yaml'] });
    expect(s.passStarted(back + 150)).toEqual(files('/m/web.yaml'));
  });

  it('after a failed pass the next observes everything, due as it would have been', () => {
    const s = new PassScheduler(50, 30_000);
    s.passStarted(0);
    s.trigger(100, { files: ['/m/web.yaml'] });
    expect(s.passStarted(150)).toEqual(files('/m/web.yaml'));
    s.passFailed();
    expect(s.dueAt()).toBe(30_000);
    s.trigger(200, { files: ['/m/web.yaml'] });
    expect(s.passStarted(250)).toBe('all');
    expect(s.dueAt()).toBe(30_250);
  });

  it('a pass due with no trigger pending observes everything', () => {
    const s = new PassScheduler(50, 30_000);
    s.passStarted(0);
    expect(s.passStarted(29_999)).toBe('all'); // a timer a moment early: no scope was named, so all
  });
});
