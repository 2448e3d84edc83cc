// <state>/health.json read by the planner and the daemon's trigger, against what could be planted
// there: a FIFO (must not block), a symlink (not followed), a huge file (not read), a directory, and
// entries of the wrong shape (no crash: they count as no result).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateSignature } from '../../src/daemon/health-watch.js';
import type { HealthFile } from '../../src/health/health-file.js';
import { MAX_HEALTH_BYTES, observeHealth } from '../../src/reconcile/observe-health.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-observe-health-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const good: HealthFile = { pid: 1, containers: { db_main: { id: 'c1', started: true, ready: true } } };

describe('observeHealth', () => {
  it('reads a regular file; a missing or broken one is none', async () => {
    const path = join(dir, 'health.json');
    await writeFile(path, JSON.stringify(good));
    expect(observeHealth(path)).toEqual(good);
    expect(observeHealth(join(dir, 'missing.json'))).toBeUndefined();
    await writeFile(path, '{"pid": 1');
    expect(observeHealth(path)).toBeUndefined();
    await writeFile(path, '{"pid": 1, "containers": 5}');
    expect(observeHealth(path)).toBeUndefined();
  });

  it("a dead daemon's results count for nothing", async () => {
    const path = join(dir, 'dead.json');
    const dead = spawnSync('true').pid as number; // ended and reaped
    await writeFile(path, JSON.stringify({ ...good, pid: dead }));
    expect(observeHealth(path)).toBeUndefined();
    await writeFile(path, JSON.stringify({ ...good, pid: -1 }));
    expect(observeHealth(path)).toBeUndefined();
  });

  it('a FIFO is none, at once (nothing writes to it)', () => {
    const fifo = join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    const started = performance.now();
    expect(observeHealth(fifo)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a symlink, even to a good file, is not followed; a directory is none', async () => {
    const target = join(dir, 'target.json');
    await writeFile(target, JSON.stringify(good));
    await symlink(target, join(dir, 'link.json'));
    expect(observeHealth(join(dir, 'link.json'))).toBeUndefined();
    await mkdir(join(dir, 'adir.json'));
    expect(observeHealth(join(dir, 'adir.json'))).toBeUndefined();
  });

  it('a file over the bound is not read', async () => {
    const big = join(dir, 'big.json');
    await writeFile(big, JSON.stringify(good));
    await truncate(big, MAX_HEALTH_BYTES + 1); // sparse: costs no disk
    expect(observeHealth(big)).toBeUndefined();
  });

  it('entries of the wrong shape do not break the trigger signature', async () => {
    const path = join(dir, 'odd.json');
    await writeFile(
      path,
      JSON.stringify({
        pid: 1,
        containers: { a: null, b: 7, c: 'x', d: { id: 3, started: 'yes', ready: 1 } },
      }),
    );
    const h = observeHealth(path);
    expect(gateSignature(h)).toBe('d\u00003\u0000false\u0000false');
  });
});
