// The age of a parked partial when the wall clock jumps (content/partial-age.ts): pure, clocks injected.
import { describe, expect, it } from 'vitest';
import { IMPLAUSIBLE_AGE_MS, judgePartial, PARTIAL_MAX_AGE_MS } from '../../src/content/partial-age.js';

const DAY = PARTIAL_MAX_AGE_MS;
const NOW = Date.UTC(2026, 11, 3);
const current = { boot: 'b1', uptimeMs: 10 * DAY };
const judge = (mtimeMs: number, stamp?: { boot: string; uptimeMs: number; creditMs: number }) =>
  judgePartial({ mtimeMs, stamp, now: NOW, current, maxAgeMs: DAY });

describe('judgePartial', () => {
  it('same boot: ages by the boot clock plus the credit, whatever the mtime says', () => {
    expect(judge(0, { boot: 'b1', uptimeMs: current.uptimeMs - DAY + 1, creditMs: 0 })).toEqual({
      expired: false,
    });
    expect(judge(NOW, { boot: 'b1', uptimeMs: current.uptimeMs - DAY + 1, creditMs: 2 })).toEqual({
      expired: true,
    });
    expect(judge(NOW + 1e12, { boot: 'b1', uptimeMs: current.uptimeMs - DAY - 1, creditMs: 0 })).toEqual({
      expired: true,
    });
  });

  it('another boot or no stamp: a plausible mtime age is credited, an absurd one (ahead, 1970) is not', () => {
    const first = (creditMs: number) => ({ expired: false, stamp: { ...current, creditMs } });
    expect(judge(NOW - 3600_000)).toEqual(first(3600_000));
    expect(judge(NOW - 2 * DAY, { boot: 'b0', uptimeMs: 5, creditMs: 0 })).toEqual({ expired: true });
    expect(judge(NOW + 1000)).toEqual(first(0));
    expect(judge(0)).toEqual(first(0));
    expect(judge(NOW - IMPLAUSIBLE_AGE_MS - 1)).toEqual(first(0));
  });

  it('a stamp of this boot id with more uptime than now (an id reused) counts as another boot', () => {
    expect(judge(0, { boot: 'b1', uptimeMs: current.uptimeMs + 1, creditMs: 0 })).toEqual({
      expired: false,
      stamp: { ...current, creditMs: 0 },
    });
  });
});
