// lib/later.ts: work asked for many times runs once a little later, and once more for an ask made
// while it runs; settled() starts what waits out its delay and waits for all of it; a failing run
// ends nothing else.
import { describe, expect, it } from 'vitest';
import { later } from '../../src/lib/later.js';

describe('later', () => {
  it('runs once for many asks made in one step, after that step', async () => {
    let runs = 0;
    const l = later(async () => {
      runs++;
    });
    l.ask();
    l.ask();
    l.ask();
    expect(runs).toBe(0); // not on the caller's path
    await l.settled();
    expect(runs).toBe(1);
    await l.settled(); // nothing asked since: resolves, runs nothing
    expect(runs).toBe(1);
  });

  it('an ask made while a run is under way is followed by a whole run after it', async () => {
    const seen: number[] = [];
    let value = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let first = true;
    let started = false;
    const l = later(async () => {
      const v = value; // what the run reads when it starts
      started = true;
      if (first) {
        first = false;
        await gate;
      }
      seen.push(v);
    });
    l.ask();
    while (!started) await new Promise((r) => setTimeout(r, 1)); // the first run has started and waits
    value = 1;
    l.ask(); // made while the first runs: it read 0, so another must follow
    l.ask();
    release();
    await l.settled();
    expect(seen).toEqual([0, 1]);
  });

  it('a run that throws is reported and the next ask still runs', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const l = later(
      async () => {
        calls++;
        if (calls === 1) throw new Error('disk full');
      },
      { onError: (err) => errors.push(err) },
    );
    l.ask();
    await l.settled();
    l.ask();
    await l.settled();
    expect(calls).toBe(2);
    expect(errors).toEqual([new Error('disk full')]);
  });

  it('runs after its delay; settled() does not wait the delay out', async () => {
    let runs = 0;
    const slow = later(
      async () => {
        runs++;
      },
      { delayMs: 60_000 },
    );
    slow.ask();
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(0); // still waiting
    const t0 = Date.now();
    await slow.settled();
    expect(runs).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5_000);

    const quick = later(
      async () => {
        runs++;
      },
      { delayMs: 30 },
    );
    quick.ask();
    quick.ask();
    const end = Date.now() + 5_000;
    while (runs < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(runs).toBe(2); // ran by itself…
    await new Promise((r) => setTimeout(r, 100));
    expect(runs).toBe(2); // …once for both asks
  });
});
