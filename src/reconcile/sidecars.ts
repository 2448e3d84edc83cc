// Native sidecars (init containers with restartPolicy Always), as Kubernetes runs them: started in
// order with the init containers, each counted done once it runs and has started (its startupProbe
// passed, as the daemon's prober found, and its postStart hook returned); kept running (restarted whatever
// the pod's policy) while the app containers run; stopped once the pod has finished for good (its
// app containers, or an init container that failed under restartPolicy Never: the kubelet kills
// the pod then); and, when the pod goes, stopped after its app containers, the last started first. Pure.
import { type HealthFile, readinessOf } from '../health/health-file.js';
import { shouldRestart } from '../runtime/restart.js';
import { type DesiredContainer, type DesiredPod, restartPolicyOf } from './desired.js';
import { type Action, ANNOTATION, graceOf, type ObservedContainer, removeAction } from './plan-types.js';

type Find = (c: DesiredContainer) => ObservedContainer | undefined;

/**
 * Init container `c` (not a sidecar) exited non-zero and its restart policy (Never: its own, else
 * the pod's) and rules say it is not run again: the pod has failed, none of its app containers is ever made.
 */
export function hasInitFailedForGood(
  pod: DesiredPod,
  c: DesiredContainer,
  o: ObservedContainer | undefined,
): boolean {
  return (
    !c.sidecar &&
    o?.state === 'exited' &&
    o.exitCode !== 0 &&
    !shouldRestart(restartPolicyOf(pod, c), o.exitCode, c.restartRules)
  );
}

/**
 * The wait of a running sidecar that has not started yet (its startup probe has not passed, or its
 * postStart hook runs): nothing after it in the pod starts before it has, as the kubelet holds the
 * next init container and the app containers. Undefined once it has started (or has no startup probe).
 */
export function sidecarNotStarted(
  pod: DesiredPod,
  c: DesiredContainer,
  o: ObservedContainer,
  health: HealthFile | undefined,
): Action | undefined {
  const observed = {
    id: o.id,
    running: o.state === 'running',
    postStartRunning: o.postStartRunning === true,
  };
  const r = readinessOf(c, observed, health);
  if (r.started) return undefined;
  return {
    kind: 'wait',
    pod: pod.name,
    container: c.name,
    reason: notStartedReason(pod.name, c.name, r.why),
    sidecarStart: true,
  };
}

/** What the wait of a running sidecar that has not started says; `why`: readinessOf's. */
export function notStartedReason(pod: string, container: string, why: string | undefined): string {
  const said = why?.startsWith('not started') ? why : `not started: ${why ?? 'not probed yet'}`;
  return `${pod}/${container}: running, ${said}`;
}

/** The pod has sidecars and every app container has exited and will not be restarted. */
export function isPodFinished(pod: DesiredPod, find: Find): boolean {
  if (!pod.initContainers.some((c) => c.sidecar)) return false;
  return pod.containers.every((c) => {
    const o = find(c);
    return o?.state === 'exited' && !shouldRestart(restartPolicyOf(pod, c), o.exitCode, c.restartRules);
  });
}

/** Removing the sidecars that still run, the last one first; `why`: what finished the pod. */
export function stopSidecars(
  pod: DesiredPod,
  find: Find,
  why = 'the app containers have finished',
): Action[] {
  return pod.initContainers
    .filter((c) => c.sidecar)
    .reverse()
    .flatMap((c): Action[] => {
      const o = find(c);
      if (!o || o.state === 'exited') return [];
      return [removeAction(pod, c.name, o, `${pod.name}/${c.name}: ${why}, the sidecar stops`)];
    });
}

const isInit = (o: ObservedContainer): boolean => {
  try {
    return (JSON.parse(o.annotations[ANNOTATION.spec] ?? '{}') as { init?: unknown }).init === true;
  } catch {
    return false;
  }
};

/**
 * A gone pod's containers in the order they stop, each with its turn: app containers first,
 * together (turn 0), then init ones (sidecars), the last started first, one turn each.
 */
export function inStopOrder(containers: ObservedContainer[]): Array<{ o: ObservedContainer; turn: number }> {
  const started = (o: ObservedContainer) => Date.parse(o.startedAt ?? '') || 0;
  const sorted = [...containers].sort(
    (a, b) => Number(isInit(a)) - Number(isInit(b)) || (isInit(a) ? started(b) - started(a) : 0),
  );
  let turn = 0;
  return sorted.map((o) => ({ o, turn: isInit(o) ? ++turn : 0 }));
}

/** Removing a gone pod's containers, each in its turn of the stop order (pod-stop.ts). */
export function stopGonePod(pod: string, containers: ObservedContainer[]): Action[] {
  return inStopOrder(containers).map(({ o, turn }) => {
    const name = o.annotations[ANNOTATION.container] as string;
    return {
      kind: 'remove',
      pod,
      container: name,
      id: o.id,
      graceSeconds: graceOf(o, 30), // the pod's own, kept at creation
      reason: `${pod}/${name}: no longer in the manifests`,
      turn,
    };
  });
}
