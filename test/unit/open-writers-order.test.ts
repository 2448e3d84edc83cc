// The order the writer check reads /proc in (open-writers.ts): newest process first, counted back
// from the last PID the kernel gave, so a writer started a moment ago is reached within the budget
// even when PIDs have wrapped (pid_max 32768, the kernel's default: a busy hour wraps them).
import { describe, expect, it } from 'vitest';
import { newestFirst } from '../../src/manifest/open-writers.js';

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
