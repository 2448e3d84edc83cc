// The prober (src/health/prober.ts) with the real handlers against a TCP server on loopback:
// probes of containers started at different moments but due within one slot share one timer and
// run together (run together they cost a third of the CPU), none runs before it is due nor more
// than a slot late. And the prober's rules with real handlers: a kill's grace (the probe's over
// the pod's), when health.json is written (a change at once, a probe's time at most every 10 s,
// on faked timers), and that a network probe spawns no process.
import { createHook } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type BerthEventInput, NO_EVENTS } from '../../src/events/event.js';
import type { RunAction } from '../../src/health/action.js';
import { createRunAction } from '../../src/health/actions/run-action.js';
import { type HealthFile, readHealth as readHealthFile } from '../../src/health/health-file.js';
import type { ProbeSpec } from '../../src/health/probe-spec.js';
import type { ProbeTarget } from '../../src/health/probe-targets.js';
import { createProber, SLOT_MS } from '../../src/health/prober.js';
import type { Timers } from '../../src/health/tick-wheel.js';
import { freePort } from '../helpers/free-port.js';

describe('prober slots', () => {
  let server: Server;
  let port: number;
  let dir: string;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-prober-'));
    server = createServer((c) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
      c.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('runs probes due within one slot together, on one timer, never early and at most a slot late', async () => {
    const real = createRunAction({
      runc: { bin: 'runc', root: '/nonexistent' },
      pidDir: dir,
      userAgent: 't',
    });
    const runs: number[] = [];
    const runAction: RunAction = (a, t, o) => {
      runs.push(Date.now());
      return real(a, t, o);
    };
    // The probes' first runs: 10 moments 10 ms apart, from the start of a slot plus 20 ms on.
    const now = Date.now();
    const base = Math.ceil(now / SLOT_MS) * SLOT_MS + SLOT_MS + 20;
    const spec: ProbeSpec = {
      action: { kind: 'tcpSocket', port },
      initialDelayMs: 0,
      periodMs: 60_000,
      timeoutMs: 1000,
      successThreshold: 1,
      failureThreshold: 3,
    };
    const targets: ProbeTarget[] = Array.from({ length: 10 }, (_, i) => ({
      runtimeName: `p${i}_main`,
      object: `p${i}/main`,
      id: `id${i}`,
      startedAt: base + i * 10,
      probes: { liveness: spec },
      action: { containerId: `id${i}`, address: '127.0.0.1', namedPorts: {} },
      graceSeconds: 1,
    }));
    const prober = createProber({
      runAction,
      stop: async () => {},
      path: join(dir, 'health.json'),
      events: NO_EVENTS,
      now: () => Date.now(),
    });
    // The timers sync sets, by async id, and whether each is still pending.
    const created = new Map<number, boolean>();
    const hook = createHook({
      init(id, type) {
        if (type === 'Timeout') created.set(id, true);
      },
      destroy(id) {
        if (created.has(id)) created.set(id, false);
      },
    });
    hook.enable();
    try {
      prober.sync(targets);
    } finally {
      hook.disable();
    }
    // One for the probes' slot, one for writing health.json.
    expect(created.size).toBe(2);
    const deadline = Date.now() + 5000;
    while (runs.length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await prober.close();
    expect(runs.length).toBe(10);
    const first = Math.min(...runs);
    const last = Math.max(...runs);
    expect(last - first).toBeLessThan(50);
    // Not before the last one was due (a timer may fire a ms early by the clock), nor a slot late.
    expect(first).toBeGreaterThanOrEqual(base + 90 - 2);
    expect(first).toBeLessThanOrEqual(base + SLOT_MS + 100);
  });
});

describe('prober: what a kill is given, what is written when, what a probe spawns', () => {
  let dir: string;
  let server: Server;
  let port: number;
  /** A port nothing listens on: probes to it are refused. */
  let closedPort: number;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-prober-rules-'));
    // Answers every connection with HTTP 200 (a TCP connect is a success too).
    server = createServer((c) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
      c.on('error', () => {});
      c.once('data', () => c.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    // Nothing listens there: below the ephemeral range, where a port a bind to 0 gave and was closed
    // could be handed to another test's server asking for port 0 before the probes below run.
    closedPort = await freePort();
  });
  afterAll(async () => {
    vi.useRealTimers();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  const runAction = () =>
    createRunAction({ runc: { bin: 'runc', root: '/nonexistent' }, pidDir: dir, userAgent: 't' });
  const probeSpec = (over: Partial<ProbeSpec>): ProbeSpec => ({
    action: { kind: 'tcpSocket', port },
    initialDelayMs: 0,
    periodMs: 60_000,
    timeoutMs: 1000,
    successThreshold: 1,
    failureThreshold: 1,
    ...over,
  });
  const target = (name: string, probes: ProbeTarget['probes'], graceSeconds: number): ProbeTarget => ({
    runtimeName: `${name}_main`,
    object: `${name}/main`,
    id: `${name}-id`,
    startedAt: Date.now(),
    probes,
    action: { containerId: `${name}-id`, address: '127.0.0.1', namedPorts: {} },
    graceSeconds,
  });
  /** Polls `cond` on the event loop (not on timers, which a test may fake), for `ms` at most. */
  const until = async (cond: () => boolean, ms = 5000) => {
    const end = performance.now() + ms;
    while (!cond() && performance.now() < end) await new Promise((r) => setImmediate(r));
    return cond();
  };

  it("a liveness kill stops the container with the probe's terminationGracePeriodSeconds, else the pod's", async () => {
    const stops: Array<[string, number]> = [];
    const events: BerthEventInput[] = [];
    const prober = createProber({
      runAction: runAction(),
      stop: async (name, grace) => {
        stops.push([name, grace]);
      },
      path: join(dir, 'grace.json'),
      events: { emit: (e) => events.push(e) },
      now: () => Date.now(),
    });
    const refused = { kind: 'tcpSocket' as const, port: closedPort };
    prober.sync([
      target('own', { liveness: probeSpec({ action: refused, graceSeconds: 5 }) }, 9),
      target('pods', { liveness: probeSpec({ action: refused }) }, 9),
    ]);
    expect(await until(() => stops.length === 2)).toBe(true);
    await prober.close();
    expect(stops.sort()).toEqual([
      ['own_main', 5],
      ['pods_main', 9],
    ]);
    expect(
      events
        .filter((e) => e.reason === 'Killing')
        .map((e) => `${e.object}: ${e.message}`)
        .sort(),
    ).toEqual([
      "own/main: liveness probe failed: connection refused: stopping it (grace 5 s), restarted per the pod's restartPolicy",
      "pods/main: liveness probe failed: connection refused: stopping it (grace 9 s), restarted per the pod's restartPolicy",
    ]);
  });

  it('writes health.json at once on a change, and a new probe time only after 10 s', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      // The probes' timers, fired by hand; the clock, moved by hand.
      const due: Array<() => void> = [];
      const timers: Timers = { set: (fn) => due.push(fn), clear: () => {} };
      let now = Date.UTC(2026, 11, 1, 8, 0, 0);
      const path = join(dir, 'health.json');
      const prober = createProber({
        runAction: runAction(),
        stop: async () => {},
        path,
        events: NO_EVENTS,
        now: () => now,
        timers,
      });
      const read = () => {
        try {
          return JSON.parse(readFileSync(path, 'utf8')) as HealthFile;
        } catch {
          return undefined;
        }
      };
      const entry = () => read()?.containers.w_main;
      const written = () => entry() !== undefined;
      prober.sync([target('w', { readiness: probeSpec({ periodMs: 1000 }) }, 1)]);
      vi.advanceTimersByTime(0);
      expect(await until(written)).toBe(true);
      expect(entry()).toEqual({ id: 'w-id', started: true, ready: false });
      // The first probe: ready, written at once.
      now += 1000;
      (due.shift() as () => void)();
      expect(await until(() => due.length === 1)).toBe(true);
      vi.advanceTimersByTime(0);
      const first = { probe: 'readiness', ok: true, message: 'connected', at: '2026-12-01T08:00:01.000Z' };
      expect(await until(() => entry()?.ready === true)).toBe(true);
      expect(entry()).toEqual({ id: 'w-id', started: true, ready: true, lastProbe: first });
      // The same result again: only its time moved, written 10 s later, not before.
      now += 1000;
      (due.shift() as () => void)();
      expect(await until(() => due.length === 1)).toBe(true);
      vi.advanceTimersByTime(9_999);
      expect(await until(() => entry()?.lastProbe?.at !== first.at, 200)).toBe(false);
      vi.advanceTimersByTime(1);
      expect(await until(() => entry()?.lastProbe?.at !== first.at)).toBe(true);
      expect(entry()?.lastProbe).toEqual({ ...first, at: '2026-12-01T08:00:02.000Z' });
      await prober.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('an HTTP or TCP probe spawns no process', async () => {
    const prober = createProber({
      runAction: runAction(),
      stop: async () => {},
      path: join(dir, 'spawn.json'),
      events: NO_EVENTS,
      now: () => Date.now(),
    });
    let spawned = 0;
    const hook = createHook({
      init(_id, type) {
        if (type === 'PROCESSWRAP') spawned++;
      },
    });
    hook.enable();
    try {
      prober.sync([
        target('t', { readiness: probeSpec({}) }, 1),
        target(
          'h',
          {
            readiness: probeSpec({
              action: { kind: 'httpGet', scheme: 'HTTP', port, path: '/', headers: [] },
            }),
          },
          1,
        ),
      ]);
      expect(
        await until(() =>
          ['t_main', 'h_main'].every((n) => readHealthFile(join(dir, 'spawn.json'))?.containers[n]?.ready),
        ),
      ).toBe(true);
    } finally {
      hook.disable();
      await prober.close();
    }
    expect(spawned).toBe(0);
  });
});
