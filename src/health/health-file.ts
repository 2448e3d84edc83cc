// `<state>/health.json`: what the daemon's prober last knew of each container it probes, keyed by
// the container's runtime name (`<pod>_<container>`) and valid only for the container id it names
// (a recreated container is probed afresh). The daemon writes it (atomically, when it changed);
// `ps`, the API and the planner read it. A daemon that starts probes afresh: it never inherits a
// previous daemon's results (as the kubelet), and restarts nothing for lack of them.
// `readinessOf` is the rule, pure: whether a container counts as started and ready.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerProbes, ProbeKind } from './probe-spec.js';

export const healthPath = (state: string) => join(state, 'health.json');

export interface ProbeOutcome {
  probe: ProbeKind;
  ok: boolean;
  /** `HTTP 500`, `connection refused`, `exit code 1`, `timed out after 1 s` (action.ts). */
  message: string;
  /** ISO time. */
  at: string;
}

export interface ContainerHealth {
  /** The container these results are of. */
  id: string;
  /** Its startup probe has succeeded (or it has none). */
  started: boolean;
  /** Its readiness probe says so (or it has none and it has started). */
  ready: boolean;
  lastProbe?: ProbeOutcome;
  /** Why liveness last restarted it: `liveness probe failed: HTTP 500`. */
  lastLivenessRestart?: { reason: string; at: string };
}

export interface HealthFile {
  /** The daemon that wrote it. */
  pid: number;
  containers: Record<string, ContainerHealth>;
}

/** The file's content; none when missing or unreadable. */
export function readHealth(path: string): HealthFile | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as HealthFile;
    return h && typeof h === 'object' && h.containers && typeof h.containers === 'object' ? h : undefined;
  } catch {
    return undefined;
  }
}

export interface Readiness {
  started: boolean;
  ready: boolean;
  /** Why not ready, for people (absent when ready). */
  why?: string;
}

/** Why a running container is neither started nor ready while its postStart hook runs. */
export const POST_START_RUNNING = 'postStart hook running';

/**
 * Whether a container counts as started and ready: not running is neither; running while its
 * postStart hook runs is neither (as the kubelet: started and probed only once it returned); with no startup or
 * readiness probe, running is both (as in Kubernetes); with probes, only what the prober (the
 * daemon) found for this very container counts.
 */
export function readinessOf(
  c: { runtimeName: string; probes?: ContainerProbes },
  observed: { id: string; running: boolean; postStartRunning?: boolean },
  health: HealthFile | undefined,
): Readiness {
  if (!observed.running) return { started: false, ready: false, why: 'not running' };
  if (observed.postStartRunning) return { started: false, ready: false, why: POST_START_RUNNING };
  const p = c.probes ?? {};
  if (!p.startup && !p.readiness) return { started: true, ready: true };
  const h = health?.containers[c.runtimeName];
  if (!h || h.id !== observed.id)
    return {
      started: !p.startup,
      ready: false,
      why: health ? 'not probed yet' : 'probes run only under the daemon (berth daemon)',
    };
  if (h.ready) return { started: h.started, ready: true };
  const last =
    h.lastProbe && !h.lastProbe.ok ? `: ${h.lastProbe.probe} probe failed: ${h.lastProbe.message}` : '';
  return { started: h.started, ready: false, why: `${h.started ? 'not ready' : 'not started'}${last}` };
}
