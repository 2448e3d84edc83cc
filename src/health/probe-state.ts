// The prober's state machine for one container, with the kubelet's rules. Pure: the clock is
// passed in. A container starts not started (when it has a startup probe) and not ready (when it
// has a readiness probe). Until started, only the startup probe runs; once it succeeds it stops
// and liveness and readiness begin. Each probe first runs at container start + initialDelay and
// then every period. A probe's result flips only after successThreshold consecutive successes or
// failureThreshold consecutive failures (liveness starts as a success, readiness as a failure).
// Liveness or startup reaching its failureThreshold asks for the container to be killed, and the
// container is then held: nothing more is probed until it is another container (a new id).
import type { ActionResult } from './action.js';
import type { ContainerHealth, ProbeOutcome } from './health-file.js';
import type { ContainerProbes, ProbeKind } from './probe-spec.js';

export const PROBE_KINDS: readonly ProbeKind[] = ['startup', 'liveness', 'readiness'];

interface Counter {
  successes: number;
  failures: number;
  /** The probe's current result (after thresholds). */
  ok: boolean;
  /** Its last raw result, to tell a change from a repeat. */
  last?: { ok: boolean; message: string };
}

export interface ProbeState {
  id: string;
  probes: ContainerProbes;
  /** ms epoch the container started. */
  startedAt: number;
  started: boolean;
  ready: boolean;
  /** Killed by liveness or startup: no more probing of this container. */
  held: boolean;
  counters: Partial<Record<ProbeKind, Counter>>;
  lastProbe?: ProbeOutcome;
}

export function initialState(id: string, probes: ContainerProbes, startedAt: number): ProbeState {
  return {
    id,
    probes,
    startedAt,
    started: !probes.startup,
    ready: !probes.readiness && !probes.startup,
    held: false,
    counters: {
      ...(probes.startup ? { startup: { successes: 0, failures: 0, ok: false } } : {}),
      ...(probes.liveness ? { liveness: { successes: 0, failures: 0, ok: true } } : {}),
      ...(probes.readiness ? { readiness: { successes: 0, failures: 0, ok: false } } : {}),
    },
  };
}

/** Whether this probe runs now: startup only before started, the others only after. */
export function isActive(s: ProbeState, kind: ProbeKind): boolean {
  if (s.held || !s.probes[kind]) return false;
  return kind === 'startup' ? !s.started : s.started;
}

/** When the probe first runs: the container's start plus its initialDelay, not before `now`. */
export function firstRunAt(s: ProbeState, kind: ProbeKind, now: number): number {
  const spec = s.probes[kind];
  return spec ? Math.max(now, s.startedAt + spec.initialDelayMs) : now;
}

export type Effect =
  | { kind: 'none' }
  | { kind: 'kill'; probe: ProbeKind; reason: string; graceSeconds?: number };

export interface Recorded {
  state: ProbeState;
  effect: Effect;
  /** started, ready or lastProbe changed: health.json is to be written. */
  changed: boolean;
}

/** Take one probe's result at `now`. */
export function recordResult(s: ProbeState, kind: ProbeKind, r: ActionResult, now: number): Recorded {
  const spec = s.probes[kind];
  const counter = s.counters[kind];
  if (!spec || !counter || !isActive(s, kind)) return { state: s, effect: { kind: 'none' }, changed: false };
  const last = { ok: r.ok, message: r.message };
  const c: Counter = r.ok
    ? { successes: counter.successes + 1, failures: 0, ok: counter.ok, last }
    : { successes: 0, failures: counter.failures + 1, ok: counter.ok, last };
  if (r.ok && c.successes >= spec.successThreshold) c.ok = true;
  if (!r.ok && c.failures >= spec.failureThreshold) c.ok = false;
  const lastProbe: ProbeOutcome = {
    probe: kind,
    ok: r.ok,
    message: r.message,
    at: new Date(now).toISOString(),
  };
  let next: ProbeState = { ...s, counters: { ...s.counters, [kind]: c }, lastProbe };
  let effect: Effect = { kind: 'none' };
  if (kind === 'startup' && c.ok) next = { ...next, started: true, ready: !s.probes.readiness };
  if (kind === 'readiness') next = { ...next, ready: c.ok };
  if ((kind === 'liveness' || kind === 'startup') && !r.ok && c.failures >= spec.failureThreshold) {
    next = { ...next, held: true, ready: false };
    effect = {
      kind: 'kill',
      probe: kind,
      reason: `${kind} probe failed: ${r.message}`,
      ...(spec.graceSeconds !== undefined ? { graceSeconds: spec.graceSeconds } : {}),
    };
  }
  // Probes of two kinds alternating is no change: only a result unlike this probe's last one is.
  const changed =
    next.started !== s.started ||
    next.ready !== s.ready ||
    next.held !== s.held ||
    counter.last?.ok !== r.ok ||
    counter.last?.message !== r.message;
  return { state: next, effect, changed };
}

/** The state as health.json keeps it. */
export function healthOf(
  s: ProbeState,
  lastLivenessRestart?: ContainerHealth['lastLivenessRestart'],
): ContainerHealth {
  return {
    id: s.id,
    started: s.started,
    ready: s.ready,
    ...(s.lastProbe ? { lastProbe: s.lastProbe } : {}),
    ...(lastLivenessRestart ? { lastLivenessRestart } : {}),
  };
}
