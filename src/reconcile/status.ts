// What the last reconcile knew, for `berth ps` and the API: each pod it manages (its file, its
// containers, why it waits) and the failures that back off. Written after every pass by whoever
// reconciled (`apply` or the daemon) to `<state>/reconcile.json`. Pure.
import type { ProbeKind } from '../health/probe-spec.js';
import type { DependencyCondition } from '../manifest/dependencies.js';
import type { RestartPolicy, RestartRule } from '../runtime/restart.js';
import type { DesiredState } from './desired.js';
import type { Failures } from './failures.js';
import type { Action } from './plan.js';
import { desiredPodNamed } from './pod-index.js';

export interface PodStatus {
  file: string;
  /** App and init container names; absent for a pod kept as it runs (its file has errors). */
  containers?: string[];
  initContainers?: string[];
  /** Of those, the native sidecars (absent when none): they never fail the pod, they restart. */
  sidecars?: string[];
  /** Each container's probes (names of containers with none left out): ps tells readiness by them. */
  probes?: Record<string, ProbeKind[]>;
  /** Why it is not (yet) as desired: dependencies, an image, a back-off, a broken file. */
  waiting?: string;
  /**
   * The running sidecar that has not started and holds the pod's next starts: ps says why from the
   * prober's findings when it is asked (pod-views.ts), so a probe that failed, or passed, since the
   * pass is not told as the pass saw it.
   */
  starting?: string;
  /**
   * What holds its start: images and the pods it depends on. ps tells this wait from how they stand
   * when it is asked (dependency-views.ts), not as the pass found them.
   */
  held?: { images: string[]; dependsOn: Array<{ pod: string; condition: DependencyCondition }> };
  /** It has failed for good for this reason (DeadlineExceeded) until its manifest changes. */
  failed?: string;
  /** Its restartPolicy, when not Always (the default): the phase ps shows depends on it. */
  restartPolicy?: 'OnFailure' | 'Never';
  /** Containers with a restartPolicy of their own (and its rules), by name: over the pod's. */
  containerRestarts?: Record<string, ContainerRestart>;
}

/** A container's own restart policy and rules, as the phase reads them. */
export interface ContainerRestart {
  policy: RestartPolicy;
  rules?: RestartRule[];
}

export interface ReconcileStatus {
  manifests: string;
  pods: Record<string, PodStatus>;
  failures: Failures;
}

export function buildStatus(
  manifests: string,
  desired: DesiredState,
  frozen: Map<string, string>,
  remaining: Action[],
  failures: Failures,
  /** Files with errors whose last good content is applied. */
  fromLastGood: string[] = [],
  /** Of those, files still being written or just gone (settle.ts): no error of theirs, a wait. */
  settling: string[] = [],
): ReconcileStatus {
  const waits = new Map<string, string[]>();
  const failed = new Map<string, string>();
  const starting = new Map<string, string>();
  const held = new Map<string, NonNullable<PodStatus['held']>>();
  for (const a of remaining) {
    if (a.kind !== 'wait' || !a.pod || a.timer) continue;
    if (a.sidecarStart && a.container) {
      starting.set(a.pod, a.container);
      continue;
    }
    if (a.held) {
      held.set(a.pod, a.held);
      continue;
    }
    if (a.failed) failed.set(a.pod, a.failed);
    waits.set(a.pod, [...(waits.get(a.pod) ?? []), a.reason]);
  }
  const pods: Record<string, PodStatus> = {};
  const settlingFiles = new Set(settling);
  const lastGoodFiles = new Set(fromLastGood);
  for (const p of desired.pods) {
    if (frozen.has(p.name)) continue;
    const waiting = [
      ...(settlingFiles.has(p.file)
        ? [`${p.file} is changing: its last good content applies until it settles`]
        : lastGoodFiles.has(p.file)
          ? [`${p.file} has errors: its last good content is applied`]
          : []),
      ...(waits.get(p.name) ?? []),
    ];
    const probes = Object.fromEntries(
      [...p.initContainers, ...p.containers]
        .filter((c) => c.probes)
        .map((c) => [c.name, Object.keys(c.probes ?? {}).sort() as ProbeKind[]]),
    );
    pods[p.name] = {
      file: p.file,
      containers: p.containers.map((c) => c.name),
      initContainers: p.initContainers.map((c) => c.name),
      ...(p.initContainers.some((c) => c.sidecar)
        ? { sidecars: p.initContainers.filter((c) => c.sidecar).map((c) => c.name) }
        : {}),
      ...(Object.keys(probes).length > 0 ? { probes } : {}),
      ...(waiting.length > 0 ? { waiting: waiting.join('; ') } : {}),
      ...(starting.has(p.name) ? { starting: starting.get(p.name) } : {}),
      ...(held.has(p.name) ? { held: held.get(p.name) } : {}),
      ...(failed.has(p.name) ? { failed: failed.get(p.name) } : {}),
      ...(p.restartPolicy !== 'Always' ? { restartPolicy: p.restartPolicy } : {}),
      ...containerRestartsOf([...p.initContainers, ...p.containers]),
    };
  }
  for (const [name, why] of frozen) {
    const file = desiredPodNamed(desired, name)?.file ?? '';
    pods[name] = { file, waiting: `kept as it runs (${why})` };
  }
  return { manifests, pods, failures };
}

function containerRestartsOf(cs: DesiredState['pods'][0]['containers']): {
  containerRestarts?: Record<string, ContainerRestart>;
} {
  const own = cs.filter((c) => c.restartPolicy);
  if (own.length === 0) return {};
  return {
    containerRestarts: Object.fromEntries(
      own.map((c) => [
        c.name,
        { policy: c.restartPolicy as RestartPolicy, ...(c.restartRules ? { rules: c.restartRules } : {}) },
      ]),
    ),
  };
}
