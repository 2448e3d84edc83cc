// When `berth apply` tells what its tasks are doing (reconcile/loop.ts): early once, then less and
// less often, never more than a minute apart, so a ten-minute pull says so a dozen times, not a hundred.
import { describe, expect, it } from 'vitest';
import { nextProgressMs } from '../../src/reconcile/loop.js';

describe('apply progress', () => {
  it('5 s in, then each time the elapsed time doubles, then every minute', () => {
    const times = [nextProgressMs(0)];
    while (times.length < 9) times.push(nextProgressMs(times.at(-1) as number));
    expect(times.map((t) => t / 1000)).toEqual([5, 10, 20, 40, 80, 140, 200, 260, 320]);
  });
});
