// Whether the pods a pod depends on (`berth.dev/depends-on`) are as it needs them before anything of
// it starts: `ready` and `started` by the readiness rule (health/health-file.ts: with probes, only
// what the daemon's prober found of the very container that runs counts; without, running is
// enough), `completed` when every app container exited 0. Checked at every start, boot included; a
// dependency that stops being ready later does not stop what already runs. The rule and its words
// (`unmetPhrase`) read each container as a `GateContainer`: the planner makes them from what it
// observed (`unmetDependency`), ps from the containers and prober's findings when it is asked
// (dependency-views.ts), so what ps says of a wait is never the text of the pass that found it. Pure.
import { type HealthFile, type Readiness, readinessOf } from '../health/health-file.js';
import type { ContainerProbes } from '../health/probe-spec.js';
import type { DependencyCondition } from '../manifest/dependencies.js';
import type { ContainerState } from '../runtime/containers.js';
import { type RestartPolicy, shouldRestart } from '../runtime/restart.js';
import { restartPolicyOf } from './desired.js';
import { ANNOTATION, type ObservedContainer, type PlanInput } from './plan-types.js';
import { containersOfPod, desiredPodNamed } from './pod-index.js';

export interface UnmetDependency {
  /** `db to be ready: not ready: readiness probe failed: HTTP 503` */
  phrase: string;
  /** What it waits for ends with a container's exit (a completion): worth waiting for in an apply. */
  awaitsExit: boolean;
}

/** One container of a dependency as the gate reads it. */
export interface GateContainer {
  state: ContainerState;
  exitCode: number | null;
  /** It ended with the host: no exit code was recorded. */
  lost: boolean;
  readiness: Readiness;
  /** Its restart policy when its exit is not restarted (it never completes now); else none. */
  final?: RestartPolicy;
}

/** A dependency's containers the gate reads, by name; undefined: none of that name exists. */
export interface GateView {
  names: string[];
  containerOf(name: string): GateContainer | undefined;
}

const WANTED: Record<DependencyCondition, string> = {
  ready: 'to be ready',
  started: 'to have started',
  completed: 'to have completed',
};

/** Why one container is not as `condition` wants it; undefined when it is. */
function unmetIn(condition: DependencyCondition, g: GateContainer | undefined): string | undefined {
  if (condition !== 'completed') {
    if (!g) return 'not running';
    if (condition === 'started') return g.readiness.started ? undefined : (g.readiness.why ?? 'not started');
    return g.readiness.ready ? undefined : (g.readiness.why ?? 'not ready');
  }
  if (!g) return 'not run yet';
  if (g.state !== 'exited') return 'running';
  if (g.exitCode === 0) return undefined;
  const ended = g.lost
    ? 'lost with no exit code (the host went down, or its monitor was killed)'
    : `exited ${g.exitCode ?? '?'}`;
  return g.final ? `${ended}, restart policy ${g.final}: it will not complete` : ended;
}

/** Why `dep` does not hold as `view` reads it, or undefined when it does. */
export function unmetPhrase(
  dep: { pod: string; condition: DependencyCondition },
  view: GateView,
): UnmetDependency | undefined {
  const { names } = view;
  const why = names.flatMap((n) => {
    const w = unmetIn(dep.condition, view.containerOf(n));
    return w === undefined ? [] : [names.length > 1 ? `${n}: ${w}` : w];
  });
  if (names.length === 0) why.push('none of its containers exists');
  if (why.length === 0) return undefined;
  return {
    phrase: `${dep.pod} ${WANTED[dep.condition]}: ${why.join(', ')}`,
    awaitsExit: dep.condition === 'completed' && names.some((n) => view.containerOf(n)?.state === 'running'),
  };
}

/** What a held pod's wait says: the images it waits for first, then each dependency's phrase. */
export function heldReason(pod: string, images: string[], phrases: string[]): string {
  const why = [...(images.length > 0 ? [`image ${[...new Set(images)].join(', ')}`] : []), ...phrases];
  return `${pod}: waiting for ${why.join(' and ')}`;
}

/**
 * How a container stands. A pod no manifest in use defines (its file is broken and has no last good
 * content: `c` undefined) has unknown probes: what the prober last found of that very container
 * counts, else running.
 */
export function gateReadiness(
  c: { runtimeName: string; probes?: ContainerProbes } | undefined,
  runtimeName: string,
  observed: { id: string; running: boolean; postStartRunning?: boolean },
  health: HealthFile | undefined,
): Readiness {
  if (c) return readinessOf(c, observed, health);
  if (observed.running && observed.postStartRunning) return readinessOf({ runtimeName }, observed, undefined);
  const h = health?.containers[runtimeName];
  if (observed.running && h?.id === observed.id)
    return { started: h.started, ready: h.ready, why: h.started ? 'not ready' : 'not started' };
  return readinessOf({ runtimeName }, observed, undefined);
}

/** The container of that name, the running one first (a replacement may exist beside it). */
export function currentOf<T>(named: T[], isRunning: (x: T) => boolean): T | undefined {
  return named.find(isRunning) ?? named.at(-1);
}

/** Why `dep` does not hold yet, or undefined when it does. */
export function unmetDependency(
  dep: { pod: string; condition: DependencyCondition },
  input: Pick<PlanInput, 'desired' | 'observed'>,
): UnmetDependency | undefined {
  const pod = desiredPodNamed(input.desired, dep.pod);
  const mine = containersOfPod(input.observed.containers, dep.pod);
  // Native sidecars count towards a pod's readiness (as the kubelet's ContainersReady).
  const specs = pod
    ? [...(dep.condition === 'ready' ? pod.initContainers.filter((c) => c.sidecar) : []), ...pod.containers]
    : undefined;
  const names = specs
    ? specs.map((c) => c.name)
    : [...new Set(mine.map((c) => c.annotations[ANNOTATION.container] as string))];
  const containerOf = (name: string): GateContainer | undefined => {
    const named = mine.filter((c) => c.annotations[ANNOTATION.container] === name);
    const o: ObservedContainer | undefined = currentOf(named, (c) => c.state === 'running');
    if (!o) return undefined;
    const c = specs?.find((s) => s.name === name);
    const observed = {
      id: o.id,
      running: o.state === 'running',
      ...(o.postStartRunning ? { postStartRunning: true } : {}),
    };
    // Not restarted (its own policy or the pod's, and its rules, say so): it will never exit 0 now.
    const app = pod?.containers.find((x) => x.name === name);
    const policy = pod && app ? restartPolicyOf(pod, app) : undefined;
    const final =
      policy && o.state === 'exited' && !shouldRestart(policy, o.exitCode, app?.restartRules)
        ? policy
        : undefined;
    return {
      state: o.state,
      exitCode: o.exitCode,
      lost: o.reason === 'lost',
      readiness: gateReadiness(c, c?.runtimeName ?? o.name, observed, input.observed.health),
      ...(final ? { final } : {}),
    };
  };
  return unmetPhrase(dep, { names, containerOf });
}
