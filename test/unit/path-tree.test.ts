// PathTree (snapshot/path-tree.ts): what a layer's writer keeps by host path, taken out at and
// under a path in time for what is there.
import { describe, expect, it } from 'vitest';
import { PathTree } from '../../src/snapshot/path-tree.js';

const tree = (...keys: string[]) => {
  const t = new PathTree<number>('/r');
  for (const [i, k] of keys.entries()) t.set(k, i);
  return t;
};

describe('PathTree', () => {
  it('takes out a path and what is under it, itself first, never a sibling sharing its start', () => {
    const t = tree('/r', '/r/a', '/r/a/b/c', '/r/ab', '/r/a/d', '/r/x/a');
    const taken = t.takeUnder('/r/a').map(([k]) => k);
    expect(taken[0]).toBe('/r/a');
    expect(taken.slice(1).sort()).toEqual(['/r/a/b/c', '/r/a/d']);
    expect([...t.keys()]).toEqual(['/r', '/r/ab', '/r/x/a']);
    expect(t.takeUnder('/r/nothing')).toEqual([]);
    // Set again after being taken, a path is found under its parent again.
    t.set('/r/a/b/c', 9);
    expect(t.takeUnder('/r/a')).toEqual([['/r/a/b/c', 9]]);
    expect(t.takeUnder('/r').map(([k]) => k)).toEqual(expect.arrayContaining(['/r', '/r/ab', '/r/x/a']));
    expect(t.size).toBe(0);
  });

  it('deletes a value alone, keeping what is under it; a value set again moves last', () => {
    const t = tree('/r/a', '/r/a/b', '/r/c');
    expect(t.delete('/r/a')).toBe(true);
    expect([t.has('/r/a'), t.get('/r/a/b')]).toEqual([false, 1]);
    t.set('/r/a/b', 5);
    expect([...t]).toEqual([
      ['/r/c', 2],
      ['/r/a/b', 5],
    ]);
    expect(t.takeUnder('/r/a')).toEqual([['/r/a/b', 5]]);
  });

  it('100,000 paths each taken out under itself, beside 100,000 kept: in linear time', () => {
    const t = new PathTree<true>('/r');
    for (let i = 0; i < 100_000; i++) t.set(`/r/keep/${i}`, true);
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) {
      t.set(`/r/x/${i}/y`, true);
      t.takeUnder(`/r/x/${i}`);
    }
    // A scan of all the keys per removal: 10^10 steps.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(t.size).toBe(100_000);
  });
});
