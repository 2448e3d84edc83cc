import { describe, expect, it } from 'vitest';
import { type GcImage, type GcInput, planImageGc } from '../../src/images/gc-plan.js';

const MB = 2 ** 20;
const img = (name: string, o: Partial<GcImage> = {}): GcImage => ({
  name,
  id: `sha256:${name}`,
  pulledAt: '2026-01-01T00:00:00Z',
  bytes: 10 * MB,
  ...o,
});
const input = (o: Partial<GcInput>): GcInput => ({
  images: [],
  wanted: new Set(),
  inUse: new Set(),
  keep: new Map(),
  usage: { totalBytes: 100 * MB, usedBytes: 90 * MB },
  highPercent: 85,
  lowPercent: 80,
  now: Date.parse('2026-12-01T00:00:00Z'),
  ...o,
});

describe('planImageGc', () => {
  it('does nothing at or below the high threshold', () => {
    expect(
      planImageGc(input({ images: [img('a')], usage: { totalBytes: 100 * MB, usedBytes: 85 * MB } })),
    ).toEqual({
      trim: [],
      overHigh: false,
      remove: [],
      ahead: [],
    });
  });

  it('removes least recently used first (LAST USED, else PULLED) until below the low threshold', () => {
    const images = [
      img('used-recently', { lastUsedAt: '2026-03-01T00:00:00Z', pulledAt: '2025-01-01T00:00:00Z' }),
      img('pulled-old', { pulledAt: '2025-06-01T00:00:00Z', bytes: 6 * MB }),
      img('used-long-ago', {
        lastUsedAt: '2026-02-01T00:00:00Z',
        pulledAt: '2025-01-01T00:00:00Z',
        bytes: 6 * MB,
      }),
    ];
    // 90 MB used, target 80 MB: pulled-old (6) leaves 84, used-long-ago (6) leaves 78.
    expect(planImageGc(input({ images }))).toEqual({
      trim: [],
      overHigh: true,
      remove: [
        { name: 'pulled-old', bytes: 6 * MB },
        { name: 'used-long-ago', bytes: 6 * MB },
      ],
      ahead: [],
    });
  });

  it('a LAST USED or PULLED ahead of the clock (written before NTP set it back) counts as now and is listed to be recorded as now, so the image ages from then', () => {
    const now = Date.parse('2026-12-01T00:00:00Z');
    const images = [
      img('ahead', { lastUsedAt: '2099-01-01T00:00:00Z', bytes: 2 * MB }),
      img('pulled-ahead', { pulledAt: '2098-01-01T00:00:00Z', bytes: 2 * MB }),
      img('used-now', { lastUsedAt: '2026-12-01T00:00:00Z', bytes: 2 * MB }),
      img('unreadable', { lastUsedAt: 'yesterday', bytes: 2 * MB }),
      img('used-today', { lastUsedAt: '2026-11-30T12:00:00Z', bytes: 9 * MB }),
    ];
    // 90 MB used, target 80: used-today (9) leaves 81, then the three at `now` by name: ahead (2) leaves 79.
    expect(planImageGc(input({ images, now }))).toEqual({
      trim: [],
      overHigh: true,
      remove: [
        { name: 'used-today', bytes: 9 * MB },
        { name: 'ahead', bytes: 2 * MB },
      ],
      ahead: ['pulled-ahead', 'unreadable'],
    });
    // Recorded as used at that GC, a month later it goes before an image used since.
    const later = [
      img('pulled-ahead', {
        pulledAt: '2098-01-01T00:00:00Z',
        lastUsedAt: '2026-12-01T00:00:00Z',
        bytes: 11 * MB,
      }),
      img('used-since', { lastUsedAt: '2026-12-10T00:00:00Z', bytes: 11 * MB }),
    ];
    expect(planImageGc(input({ images: later, now: Date.parse('2027-01-01T00:00:00Z') })).remove).toEqual([
      { name: 'pulled-ahead', bytes: 11 * MB },
    ]);
  });

  it('never removes what a manifest names or a container uses (by name or id)', () => {
    const images = [img('wanted'), img('by-name'), img('by-id'), img('free', { bytes: MB })];
    const plan = planImageGc(
      input({ images, wanted: new Set(['wanted']), inUse: new Set(['by-name', 'sha256:by-id']) }),
    );
    expect(plan.remove).toEqual([{ name: 'free', bytes: MB }]);
  });

  it('keeps the newest `keep` previous digests of a ref and trims the rest, disk full or not', () => {
    const prev = (n: number) =>
      img(`r/app@sha256:${n}`, {
        previousOf: 'r/app:1',
        replacedAt: `2026-01-0${n}T00:00:00Z`,
        pulledAt: '2024-01-01T00:00:00Z',
      });
    const images = [img('r/app:1'), prev(1), prev(2), prev(3)];
    const calm = { totalBytes: 100 * MB, usedBytes: 10 * MB };
    expect(planImageGc(input({ images, keep: new Map([['r/app:1', 2]]), usage: calm }))).toEqual({
      trim: ['r/app@sha256:1'],
      overHigh: false,
      remove: [],
      ahead: [],
    });
    expect(planImageGc(input({ images, usage: calm })).trim).toEqual([
      'r/app@sha256:1',
      'r/app@sha256:2',
      'r/app@sha256:3',
    ]);
    // Under pressure, kept previous digests stay; what trimming frees counts toward the target.
    const full = planImageGc(
      input({ images, keep: new Map([['r/app:1', 2]]), wanted: new Set(['r/app:1']) }),
    );
    expect(full).toEqual({ trim: ['r/app@sha256:1'], overHigh: true, remove: [], ahead: [] });
  });

  it('never trims a previous digest a container still runs from, by name or by config digest', () => {
    const prev = (n: number) =>
      img(`r/app@sha256:${n}`, { previousOf: 'r/app:1', replacedAt: `2026-01-0${n}T00:00:00Z` });
    const images = [img('r/app:1'), prev(1), prev(2), prev(3)];
    const calm = { totalBytes: 100 * MB, usedBytes: 10 * MB };
    expect(planImageGc(input({ images, usage: calm, inUse: new Set(['r/app@sha256:1']) })).trim).toEqual([
      'r/app@sha256:2',
      'r/app@sha256:3',
    ]);
    expect(
      planImageGc(input({ images, usage: calm, inUse: new Set(['sha256:r/app@sha256:2']) })).trim,
    ).toEqual(['r/app@sha256:1', 'r/app@sha256:3']);
    // Under pressure too: kept for the container, whatever `keep` says.
    const full = planImageGc(
      input({ images, inUse: new Set(['r/app@sha256:3']), wanted: new Set(['r/app:1']) }),
    );
    expect(full.trim).toEqual(['r/app@sha256:1', 'r/app@sha256:2']);
    expect(full.remove).toEqual([]);
  });
});
