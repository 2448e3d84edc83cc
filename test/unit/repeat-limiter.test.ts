// A failure repeating as fast as its cause (src/lib/repeat-limiter.ts): said at once, then once per
// window with how many were held back; lines differing only in numbers count as one.
import { describe, expect, it } from 'vitest';
import { createRepeatLimiter } from '../../src/lib/repeat-limiter.js';

describe('repeat limiter', () => {
  it('says the first at once, holds back repeats within the window, then says one with their count', () => {
    let t = 0;
    const l = createRepeatLimiter(60_000, () => t);
    const line = (n: number) =>
      `keeping rotated logs: ENOSPC: link 'container.log' -> 'container.log.hold.${n}'`;
    expect(l.admit(line(1))).toBe(line(1));
    for (let i = 2; i < 500; i++) {
      t += 100;
      expect(l.admit(line(i))).toBeUndefined();
    }
    t = 60_000;
    expect(l.admit(line(500))).toBe(`${line(500)} (498 more like it since the last said)`);
    // Another failure is said at once, whatever the first one's window.
    expect(l.admit('keeping rotated logs: EIO')).toBe('keeping rotated logs: EIO');
    t = 200_000;
    expect(l.admit(line(501))).toBe(line(501));
  });
});
