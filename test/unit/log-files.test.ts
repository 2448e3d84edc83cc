// The renames of a log rotation (src/runtime/log-files.ts): held files become the newest rotated
// ones, the others shift without ever renaming onto a file not moved yet, and what is past
// maxFiles goes.
import { describe, expect, it } from 'vitest';
import { parseHoldSeq, parseRotatedNumber, planLogShift } from '../../src/runtime/log-files.js';

/** Applies a plan to a set of names (a map name → content), failing on a rename onto a file. */
function apply(files: Map<string, string>, plan: ReturnType<typeof planLogShift>): Map<string, string> {
  const out = new Map(files);
  for (const f of plan.remove) out.delete(f);
  for (const { from, to } of plan.renames) {
    if (out.has(to)) throw new Error(`${from} → ${to} overwrites ${to}`);
    out.set(to, out.get(from) as string);
    out.delete(from);
  }
  return out;
}

describe('planLogShift', () => {
  it('one held file becomes .1, the others shift, the oldest past maxFiles goes', () => {
    const plan = planLogShift('l', [1, 2, 3], ['l.hold.7'], 3);
    expect(plan).toEqual({
      remove: ['l.3'],
      renames: [
        { from: 'l.2', to: 'l.3' },
        { from: 'l.1', to: 'l.2' },
        { from: 'l.hold.7', to: 'l.1' },
      ],
    });
  });

  it('two held files (newest first) become .1 and .2', () => {
    const files = new Map([
      ['l.1', 'c'],
      ['l.2', 'd'],
      ['l.hold.4', 'b'],
      ['l.hold.5', 'a'],
    ]);
    const plan = planLogShift('l', [2, 1], ['l.hold.5', 'l.hold.4'], 3);
    expect(plan.remove).toEqual(['l.2']);
    expect([...apply(files, plan)].sort()).toEqual([
      ['l.1', 'a'],
      ['l.2', 'b'],
      ['l.3', 'c'],
    ]);
  });

  it('gaps close without overwriting: numbered files past their place move down first', () => {
    const files = new Map([
      ['l.1', 'b'],
      ['l.3', 'c'],
      ['l.5', 'd'],
      ['l.hold.9', 'a'],
    ]);
    const plan = planLogShift('l', [5, 3, 1], ['l.hold.9'], 5);
    expect([...apply(files, plan)].sort()).toEqual([
      ['l.1', 'a'],
      ['l.2', 'b'],
      ['l.3', 'c'],
      ['l.4', 'd'],
    ]);
    // [3, 5] behind a held file: .5 → .3 would overwrite .3 before it moved.
    const two = new Map([
      ['l.3', 'b'],
      ['l.5', 'c'],
      ['l.hold.2', 'a'],
    ]);
    expect([...apply(two, planLogShift('l', [3, 5], ['l.hold.2'], 3))].sort()).toEqual([
      ['l.1', 'a'],
      ['l.2', 'b'],
      ['l.3', 'c'],
    ]);
  });

  it('nothing to do, a lower maxFiles, and maxFiles below the held files', () => {
    expect(planLogShift('l', [1, 2], [], 3)).toEqual({ remove: [], renames: [] });
    expect(planLogShift('l', [1, 2, 3, 4], [], 2)).toEqual({ remove: ['l.3', 'l.4'], renames: [] });
    expect(planLogShift('l', [1], ['l.hold.3', 'l.hold.2'], 1)).toEqual({
      remove: ['l.hold.2', 'l.1'],
      renames: [{ from: 'l.hold.3', to: 'l.1' }],
    });
  });
});

describe('log file names', () => {
  it('reads rotated numbers and hold seqs, nothing else', () => {
    expect(
      ['l.1', 'l.12', 'l.0', 'l.01', 'l.1x', 'l.hold.3', 'm.1', 'l.'].map((e) => parseRotatedNumber('l', e)),
    ).toEqual([1, 12, undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(
      ['l.hold.3', 'l.hold.03', 'l.hold.', 'l.3', 'l.hold.3/x'].map((e) => parseHoldSeq('l', e)),
    ).toEqual([3, undefined, undefined, undefined, undefined]);
  });
});
