import { describe, expect, it } from 'vitest';
import { nextBackoff, restartDue, shouldRestart } from '../../src/runtime/restart.js';

describe('restart policy', () => {
  it.each([
    ['Always', 0, true],
    ['Always', 1, true],
    ['OnFailure', 0, false],
    ['OnFailure', 137, true],
    ['OnFailure', null, true],
    ['Never', 1, false],
  ] as const)('%s after exit %s → %s', (policy, code, want) => {
    expect(shouldRestart(policy, code)).toBe(want);
  });

  it('backs off from 10 s doubling to 5 min, and starts over after 10 min of running', () => {
    let s = { delayMs: 0 };
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      s = nextBackoff(s, 1_000);
      delays.push(s.delayMs / 1000);
    }
    expect(delays).toEqual([10, 20, 40, 80, 160, 300, 300, 300]);
    expect(nextBackoff(s, 10 * 60_000).delayMs).toBe(10_000);
    expect(nextBackoff(s, 10 * 60_000 - 1).delayMs).toBe(300_000);
  });

  it('is due once the delay has passed since the exit', () => {
    expect(restartDue(1000, { delayMs: 10_000 }, 10_999)).toBe(false);
    expect(restartDue(1000, { delayMs: 10_000 }, 11_000)).toBe(true);
    // Exited 'in the future': the clock went back since; the back-off cannot be measured and is over.
    expect(
      restartDue(Date.parse('2031-01-01T00:00:00Z'), { delayMs: 10_000 }, Date.parse('2026-01-01T00:00:00Z')),
    ).toBe(true);
  });
});
