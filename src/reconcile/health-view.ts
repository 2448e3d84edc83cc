// What ps and the API show of a container's health: started and ready (readinessOf, from the
// daemon's <state>/health.json), why not ready, the last probe and the last liveness restart. A
// container with no startup or readiness probe is started and ready while it runs, with or
// without a daemon; one with them is ready only as the daemon's prober found it. Pure.
import {
  type ContainerHealth,
  type HealthFile,
  type ProbeOutcome,
  readinessOf,
} from '../health/health-file.js';
import type { ContainerProbes, ProbeKind } from '../health/probe-spec.js';

export interface HealthView {
  started: boolean;
  ready: boolean;
  /** Why not ready (absent when ready). */
  notReady?: string;
  lastProbe?: ProbeOutcome;
  lastLivenessRestart?: ContainerHealth['lastLivenessRestart'];
}

export function healthViewOf(
  c: { runtimeName: string; probes: ProbeKind[] },
  observed: { id: string; running: boolean; postStartRunning?: boolean },
  health: HealthFile | undefined,
): HealthView {
  // readinessOf asks only which probes there are.
  const probes: ContainerProbes = Object.fromEntries(c.probes.map((k) => [k, {}])) as ContainerProbes;
  const r = readinessOf({ runtimeName: c.runtimeName, probes }, observed, health);
  const h = health?.containers[c.runtimeName];
  const mine = h && h.id === observed.id && observed.running;
  return {
    started: r.started,
    ready: r.ready,
    ...(r.why && observed.running ? { notReady: r.why } : {}),
    ...(mine && h.lastProbe ? { lastProbe: h.lastProbe } : {}),
    ...(h?.lastLivenessRestart ? { lastLivenessRestart: h.lastLivenessRestart } : {}),
  };
}
