import { describe, expect, it } from 'vitest';
import { lockPath } from '../../src/content/lock.js';
import { NAME_LOCK_BUCKETS, nameLockPurpose } from '../../src/runtime/name-lock.js';

describe('nameLockPurpose', () => {
  it('gives one name always the same lock, a valid lock name, from a bounded set', () => {
    const names = Array.from({ length: 2000 }, (_, i) => `c${i}`);
    const purposes = new Set(names.map(nameLockPurpose));
    expect(nameLockPurpose('web')).toBe(nameLockPurpose('web'));
    expect(purposes.size).toBeLessThanOrEqual(NAME_LOCK_BUCKETS);
    expect(purposes.size).toBeGreaterThan(NAME_LOCK_BUCKETS / 2); // spread, not one lock for all
    for (const p of purposes) expect(() => lockPath('/r', p)).not.toThrow();
  });
});
