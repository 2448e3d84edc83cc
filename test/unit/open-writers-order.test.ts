// The order the writer check reads /proc in (open-writers.ts, pid-order.ts): newest process first,
// counted back from the last PID the kernel gave, so a writer started a moment ago is reached first
// even when PIDs have wrapped (pid_max 32768, the kernel's default: a busy hour wraps them); and the
// processes started while a pass looked, which its list did not hold.
import { describe, expect, it } from 'vitest';
import { newestFirst, startedSince } from '../../src/manifest/pid-order.js';

describe('newest process first', () => {
  it('after a wrap, the low PIDs just handed out come before the high ones of the cycle before', () => {
    const pids = ['32000', '50', '99', '101', '30000'];
    expect(newestFirst(pids, { last: 100, max: 32768 })).toEqual(['99', '50', '32000', '30000', '101']);
  });

  it('without a wrap, it is the highest number first; so too when /proc says nothing of the last PID', () => {
    const pids = ['7', '300', '12'];
    expect(newestFirst(pids, { last: 400, max: 32768 })).toEqual(['300', '12', '7']);
    expect(newestFirst(pids, undefined)).toEqual(['300', '12', '7']);
  });
});

describe('processes started while a pass looked', () => {
  it('are those handed out after the first last PID up to the second, newest first', () => {
    const pids = ['90', '100', '101', '150', '200', '201', '5'];
    expect(startedSince(pids, { last: 100, max: 32768 }, { last: 200, max: 32768 })).toEqual([
      '200',
      '150',
      '101',
    ]);
  });

  it('across a wrap too; and none when no PID was handed out meanwhile', () => {
    const pids = ['32760', '32767', '1', '3', '4', '30000'];
    expect(startedSince(pids, { last: 32760, max: 32768 }, { last: 3, max: 32768 })).toEqual([
      '3',
      '1',
      '32767',
    ]);
    expect(startedSince(pids, { last: 3, max: 32768 }, { last: 3, max: 32768 })).toEqual([]);
  });
});
