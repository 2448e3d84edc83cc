// Scrapes of /metrics that arrive together share one reading of the host: `metrics.listen` answers
// any local user, who could open 64 connections and pipeline 4 scrapes on each, and every scrape
// that came while the snapshot walk's result was out of date (every 5 minutes) or the store had
// changed walked the whole tree again, 256 walks at once through the thread pool the daemon's own
// passes use. The walk here only counts its calls and waits for the test to let it finish.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHostMetrics } from '../../src/events/host-metrics.js';
import type { MetricFamily } from '../../src/events/metrics.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-metrics-herd-'));
  await mkdir(join(root, 'content', 'blobs', 'sha256'), { recursive: true });
  await mkdir(join(root, 'snapshots'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A walk held until `finish()`, counting the walks of each directory. */
function heldWalk() {
  const walked: string[] = [];
  let finish!: () => void;
  const gate = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const walk = async (dir: string) => {
    walked.push(dir);
    await gate;
    return 42;
  };
  return { walk, walked, finish };
}

const sampleOf = (families: MetricFamily[], name: string) =>
  families.find((f) => f.name === name)?.samples[0]?.value;

describe('metrics scrapes that arrive together', () => {
  it('walk the snapshots and the content store once between them, and all get the result', async () => {
    const { walk, walked, finish } = heldWalk();
    let now = 0;
    const host = createHostMetrics({ root, now: () => now, walk });
    const scrapes = Array.from({ length: 32 }, () => host.families());
    await new Promise((resolve) => setTimeout(resolve, 20)); // every scrape is waiting on a walk by now
    finish();
    const answers = await Promise.all(scrapes);
    expect(walked.filter((d) => d === join(root, 'snapshots'))).toHaveLength(1);
    expect(walked.filter((d) => d === join(root, 'content', 'blobs'))).toHaveLength(1);
    for (const a of answers) expect(sampleOf(a, 'berth_snapshot_bytes')).toBe(42);

    // Once it has ended, a later scrape reads the host again (its caches decide what is walked).
    now += 10 * 60_000;
    await host.families();
    expect(walked.filter((d) => d === join(root, 'snapshots'))).toHaveLength(2);
  });

  it('a reading that failed is not handed to the scrapes after it', async () => {
    let fail = true;
    const host = createHostMetrics({
      root,
      now: () => 0,
      walk: async () => {
        if (fail) throw new Error('walk failed');
        return 7;
      },
    });
    await expect(Promise.all([host.families(), host.families()])).rejects.toThrow('walk failed');
    fail = false;
    expect(sampleOf(await host.families(), 'berth_snapshot_bytes')).toBe(7);
  });
});
