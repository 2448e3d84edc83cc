// The README's promise about prerequisites (test/helpers/prereqs.ts): outside CI a missing tool skips
// the suite with its reason; with CI=true a missing prerequisite fails the run instead.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { missingPrereqs } from '../helpers/prereqs.js';

describe('missingPrereqs', () => {
  const saved = process.env.CI;
  afterEach(() => {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
    vi.restoreAllMocks();
  });

  it('outside CI: the reason to skip, said once; nothing when every tool is there', () => {
    delete process.env.CI;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(missingPrereqs(['sh', 'berth-no-such-tool-a', 'berth-no-such-tool-b'])).toBe(
      'missing berth-no-such-tool-a, berth-no-such-tool-b',
    );
    expect(warn.mock.calls).toEqual([
      ['skipping: missing berth-no-such-tool-a, berth-no-such-tool-b (run scripts/setup.sh)'],
    ]);
    expect(missingPrereqs(['sh'])).toBeUndefined();
  });

  it('with CI=true: a missing tool (or root) fails instead of skipping', () => {
    process.env.CI = 'true';
    expect(() => missingPrereqs(['berth-no-such-tool'])).toThrow(
      new Error('test prerequisites not met in CI: missing berth-no-such-tool'),
    );
    const root = process.getuid?.() === 0;
    if (!root) {
      expect(() => missingPrereqs(['sh'], { root: true })).toThrow(
        new Error('test prerequisites not met in CI: needs root'),
      );
    }
    expect(missingPrereqs(['sh'], { root })).toBeUndefined();
  });
});
