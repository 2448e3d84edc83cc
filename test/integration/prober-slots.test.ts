// The prober (src/health/prober.ts) with the real handlers against a TCP server on loopback:
// probes of containers started at different moments but due within one slot share one timer and
// run together (run together they cost a third of the CPU), none runs before it is due nor more
// than a slot late.
import { createHook } from 'node:async_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_EVENTS } from '../../src/events/event.js';
import type { RunAction } from '../../src/health/action.js';
import { createRunAction } from '../../src/health/actions/run-action.js';
import type { ProbeSpec } from '../../src/health/probe-spec.js';
import type { ProbeTarget } from '../../src/health/probe-targets.js';
import { createProber, SLOT_MS } from '../../src/health/prober.js';

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
