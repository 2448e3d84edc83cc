// Whether the pods a pod depends on (`berth.dev/depends-on`) are as it needs them before anything of
// it starts: `ready` and `started` by the readiness rule (health/health-file.ts: with probes, only
// what the daemon's prober found of the very container that runs counts; without, running is
// enough), `completed` when every app container exited 0. Checked at every start, boot included; a
// dependency that stops being ready later does not stop what already runs. Pure.
import { type HealthFile, type Readiness, readinessOf } from '../health/health-file.js';
import type { DependencyCondition } from '../manifest/dependencies.js';
import { shouldRestart } from '../runtime/restart.js';
import { type DesiredContainer, type DesiredPod, restartPolicyOf } from './desired.js';
import { ANNOTATION, type ObservedContainer, type PlanInput } from './plan-types.js';

export interface UnmetDependency {
  /** `db to be ready: not ready: readiness probe failed: HTTP 503` */
  phrase: string;
  /** What it waits for ends with a container's exit (a completion): worth waiting for in an apply. */
  awaitsExit: boolean;
}

const WANTED: Record<DependencyCondition, string> = {
  ready: 'to be ready',
  started: 'to have started',
  completed: 'to have completed',
};

/** Why one container is not as wanted; undefined when it is. */
type Check = (name: string, o: ObservedContainer | undefined) => string | undefined;

/** The container of that name, the running one first (a replacement may exist beside it). */
function observedOf(mine: ObservedContainer[], name: string): ObservedContainer | undefined {
  const named = mine.filter((c) => c.annotations[ANNOTATION.container] === name);
  return named.find((c) => c.state === 'running') ?? named.at(-1);
}

/**
 * How a container stands. A pod no manifest in use defines (its file is broken and has no last good
 * content) has unknown probes: what the prober last found of that very container counts, else running.
 */
function readinessIn(
  c: DesiredContainer | undefined,
  runtimeName: string,
  o: ObservedContainer,
  health: HealthFile | undefined,
): Readiness {
  const observed = {
    id: o.id,
    running: o.state === 'running',
    ...(o.postStartRunning ? { postStartRunning: true } : {}),
  };
  if (c) return readinessOf(c, observed, health);
  if (observed.running && o.postStartRunning) return readinessOf({ runtimeName }, observed, undefined);
  const h = health?.containers[runtimeName];
  if (observed.running && h?.id === o.id)
    return { started: h.started, ready: h.ready, why: h.started ? 'not ready' : 'not started' };
  return readinessOf({ runtimeName }, observed, undefined);
}

function completion(pod: DesiredPod | undefined): Check {
  return (name, o) => {
    if (!o) return 'not run yet';
    if (o.state !== 'exited') return 'running';
    if (o.exitCode === 0) return undefined;
    const ended =
      o.reason === 'lost'
        ? 'lost with no exit code (the host went down, or its monitor was killed)'
        : `exited ${o.exitCode ?? '?'}`;
    // Not restarted (its own policy or the pod's, and its rules, say so): it will never exit 0 now.
    const c = pod?.containers.find((x) => x.name === name);
    if (!pod || !c || shouldRestart(restartPolicyOf(pod, c), o.exitCode, c.restartRules)) return ended;
    return `${ended}, restart policy ${restartPolicyOf(pod, c)}: it will not complete`;
  };
}

/** Why `dep` does not hold yet, or undefined when it does. */
export function unmetDependency(
  dep: { pod: string; condition: DependencyCondition },
  input: Pick<PlanInput, 'desired' | 'observed'>,
): UnmetDependency | undefined {
  const pod = input.desired.pods.find((p) => p.name === dep.pod);
  const mine = input.observed.containers.filter((c) => c.annotations[ANNOTATION.pod] === dep.pod);
  const health = input.observed.health;
  // Native sidecars count towards a pod's readiness (as the kubelet's ContainersReady).
  const specs = pod
    ? [...(dep.condition === 'ready' ? pod.initContainers.filter((c) => c.sidecar) : []), ...pod.containers]
    : undefined;
  const names = specs
    ? specs.map((c) => c.name)
    : [...new Set(mine.map((c) => c.annotations[ANNOTATION.container] as string))];
  const standing: Check = (name, o) => {
    if (!o) return 'not running';
    const c = specs?.find((s) => s.name === name);
    const r = readinessIn(c, c?.runtimeName ?? o.name, o, health);
    if (dep.condition === 'started') return r.started ? undefined : (r.why ?? 'not started');
    return r.ready ? undefined : (r.why ?? 'not ready');
  };
  const check = dep.condition === 'completed' ? completion(pod) : standing;
  const why = names.flatMap((n) => {
    const w = check(n, observedOf(mine, n));
    return w === undefined ? [] : [names.length > 1 ? `${n}: ${w}` : w];
  });
  if (names.length === 0) why.push('none of its containers exists');
  if (why.length === 0) return undefined;
  return {
    phrase: `${dep.pod} ${WANTED[dep.condition]}: ${why.join(', ')}`,
    awaitsExit: dep.condition === 'completed' && names.some((n) => observedOf(mine, n)?.state === 'running'),
  };
}
