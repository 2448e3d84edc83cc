// The prober's state machine (src/health/probe-state.ts) with an injected clock: thresholds,
// startup gating liveness and readiness, initial delays, liveness kills with the probe's grace.
// Also: the defaults a manifest's probe gets, and the containers probed (native sidecars too).
import { describe, expect, it } from 'vitest';
import type { ProbeSpec } from '../../src/health/probe-spec.js';
import {
  firstRunAt,
  initialState,
  isActive,
  type ProbeState,
  recordResult,
} from '../../src/health/probe-state.js';
import { probeTargets } from '../../src/health/probe-targets.js';
import type { LoadedDoc } from '../../src/manifest/kinds.js';
import { desiredState } from '../../src/reconcile/desired.js';

const spec = (over: Partial<ProbeSpec> = {}): ProbeSpec => ({
  action: { kind: 'tcpSocket', port: 80 },
  initialDelayMs: 0,
  periodMs: 1000,
  timeoutMs: 1000,
  successThreshold: 1,
  failureThreshold: 3,
  ...over,
});
const ok = { ok: true, message: 'HTTP 200' };
const bad = { ok: false, message: 'HTTP 500' };
const T0 = Date.UTC(2026, 0, 1);

describe('probe state', () => {
  it('starts live, not ready, not started when there is a startup probe', () => {
    const s = initialState('id1', { liveness: spec(), readiness: spec(), startup: spec() }, T0);
    expect([s.started, s.ready]).toEqual([false, false]);
    expect(['startup', 'liveness', 'readiness'].map((k) => isActive(s, k as 'startup'))).toEqual([
      true,
      false,
      false,
    ]);
    const plain = initialState('id1', { liveness: spec() }, T0);
    expect([plain.started, plain.ready]).toEqual([true, true]);
  });

  it('first runs at the start plus the initial delay, not before now', () => {
    const s = initialState('id', { readiness: spec({ initialDelayMs: 5000 }) }, T0);
    expect(firstRunAt(s, 'readiness', T0 + 1000)).toBe(T0 + 5000);
    expect(firstRunAt(s, 'readiness', T0 + 9000)).toBe(T0 + 9000);
  });

  it('readiness flips after successThreshold successes and failureThreshold failures', () => {
    let s: ProbeState = initialState(
      'id',
      { readiness: spec({ successThreshold: 2, failureThreshold: 2 }) },
      T0,
    );
    const step = (r: typeof ok, t: number) => {
      const out = recordResult(s, 'readiness', r, T0 + t);
      s = out.state;
      return [s.ready, out.changed, out.effect.kind];
    };
    expect(step(ok, 1)).toEqual([false, true, 'none']);
    expect(step(ok, 2)).toEqual([true, true, 'none']);
    expect(step(ok, 3)).toEqual([true, false, 'none']);
    expect(step(bad, 4)).toEqual([true, true, 'none']);
    expect(step(ok, 5)).toEqual([true, true, 'none']); // a success resets the failures
    expect(step(bad, 6)).toEqual([true, true, 'none']);
    expect(step(bad, 7)).toEqual([false, true, 'none']);
    expect(s.lastProbe).toEqual({
      probe: 'readiness',
      ok: false,
      message: 'HTTP 500',
      at: new Date(T0 + 7).toISOString(),
    });
  });

  it('kills after failureThreshold consecutive liveness failures, then holds', () => {
    let s = initialState(
      'id',
      { liveness: spec({ failureThreshold: 3, graceSeconds: 2 }), readiness: spec() },
      T0,
    );
    s = recordResult(s, 'readiness', ok, T0).state;
    expect(s.ready).toBe(true);
    s = recordResult(s, 'liveness', bad, T0 + 1).state;
    s = recordResult(s, 'liveness', ok, T0 + 2).state;
    s = recordResult(s, 'liveness', bad, T0 + 3).state;
    s = recordResult(s, 'liveness', bad, T0 + 4).state;
    const out = recordResult(s, 'liveness', bad, T0 + 5);
    expect(out.effect).toEqual({
      kind: 'kill',
      probe: 'liveness',
      reason: 'liveness probe failed: HTTP 500',
      graceSeconds: 2,
    });
    expect([out.state.held, out.state.ready]).toEqual([true, false]);
    expect(isActive(out.state, 'liveness')).toBe(false);
    expect(isActive(out.state, 'readiness')).toBe(false);
    expect(recordResult(out.state, 'readiness', ok, T0 + 6).changed).toBe(false);
  });

  it('startup gates liveness and readiness until it succeeds; its failures kill', () => {
    let s = initialState(
      'id',
      { startup: spec({ failureThreshold: 2 }), liveness: spec(), readiness: spec() },
      T0,
    );
    expect(recordResult(s, 'liveness', bad, T0).changed).toBe(false); // not active yet
    s = recordResult(s, 'startup', bad, T0 + 1).state;
    expect(s.started).toBe(false);
    const started = recordResult(s, 'startup', ok, T0 + 2);
    expect([started.state.started, started.state.ready, started.changed]).toEqual([true, false, true]);
    expect(isActive(started.state, 'startup')).toBe(false);
    expect(isActive(started.state, 'liveness')).toBe(true);
    // A startup probe that never succeeds kills, without a grace of its own: the pod's.
    let t = initialState('id2', { startup: spec({ failureThreshold: 2 }) }, T0);
    t = recordResult(t, 'startup', bad, T0).state;
    expect(recordResult(t, 'startup', bad, T0 + 1).effect).toEqual({
      kind: 'kill',
      probe: 'startup',
      reason: 'startup probe failed: HTTP 500',
    });
  });

  it('a startup probe alone: started makes ready', () => {
    const s = initialState('id', { startup: spec() }, T0);
    expect(recordResult(s, 'startup', ok, T0).state.ready).toBe(true);
  });
});

describe('probe state: what is a change worth writing', () => {
  it('two probes alternating with the same results are no change; a new result of one is', () => {
    let s = initialState('id', { liveness: spec(), readiness: spec() }, T0);
    const changes: boolean[] = [];
    for (const [kind, r] of [
      ['readiness', ok],
      ['liveness', ok],
      ['readiness', ok],
      ['liveness', ok],
      ['liveness', { ok: true, message: 'HTTP 204' }],
    ] as const) {
      const out = recordResult(s, kind, r, T0);
      s = out.state;
      changes.push(out.changed);
    }
    expect(changes).toEqual([true, true, false, false, true]);
  });
});

/** A Pod manifest as the loader gives it: a native sidecar `proxy` and an app container `main`. */
function podDoc(proxy: Record<string, unknown>, main: Record<string, unknown>): LoadedDoc {
  return {
    file: '/m/p.yaml',
    line: 1,
    doc: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        hostNetwork: true,
        terminationGracePeriodSeconds: 7,
        initContainers: [{ name: 'proxy', image: 'r.lan/a:1', restartPolicy: 'Always', ...proxy }],
        containers: [{ name: 'main', image: 'r.lan/a:1', ...main }],
      },
    } as LoadedDoc['doc'],
  };
}
const HOST = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
const running = (name: string) => ({
  id: `${name}-1`,
  name,
  state: 'running',
  startedAt: '2026-11-30T11:00:00.000Z',
});

describe('probes from the manifest', () => {
  it("a probe given only its handler gets Kubernetes' defaults: period 10 s, timeout 1 s, success 1, failure 3", () => {
    const d = desiredState([podDoc({}, { livenessProbe: { tcpSocket: { port: 80 } } })], HOST);
    expect(d.pods[0]?.containers[0]?.probes).toEqual({
      liveness: {
        action: { kind: 'tcpSocket', port: 80 },
        initialDelayMs: 0,
        periodMs: 10_000,
        timeoutMs: 1_000,
        successThreshold: 1,
        failureThreshold: 3,
      },
    });
  });

  it("a native sidecar's probe is probed as an app container's, on the pod's address", () => {
    const readiness = { exec: { command: ['true'] }, periodSeconds: 2 };
    const liveness = { tcpSocket: { port: 81 }, terminationGracePeriodSeconds: 3 };
    const d = desiredState([podDoc({ readinessProbe: readiness }, { livenessProbe: liveness })], HOST);
    const targets = probeTargets(d, [running('p_proxy'), running('p_main')], new Map());
    expect(
      targets.map((t) => [t.object, t.id, Object.keys(t.probes), t.action.address, t.graceSeconds]),
    ).toEqual([
      ['p/proxy', 'p_proxy-1', ['readiness'], '127.0.0.1', 7],
      ['p/main', 'p_main-1', ['liveness'], '127.0.0.1', 7],
    ]);
    expect(targets[0]?.probes.readiness?.periodMs).toBe(2_000);
    // A sidecar not running (or still in its postStart) is not probed.
    expect(
      probeTargets(d, [{ ...running('p_proxy'), postStartRunning: true }, running('p_main')], new Map()).map(
        (t) => t.object,
      ),
    ).toEqual(['p/main']);
  });
});
