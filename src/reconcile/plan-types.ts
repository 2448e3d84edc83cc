// The planner's data: what it is given (desired and observed state, the folder applied) and what
// it returns (actions, each with a reason), and the annotations berth stamps on the containers it
// makes from manifests. Types and constants only.
import type { HealthFile } from '../health/health-file.js';
import type { DependencyCondition } from '../manifest/dependencies.js';
import type { PortMapping } from '../network/ports.js';
import { OWNER_KEYS } from '../runtime/bundle-owner.js';
import type { ContainerState, ContainerStatus } from '../runtime/containers.js';
import type { DesiredState } from './desired.js';
import type { ObservedSandbox } from './sandbox.js';

/** A failed action, remembered between passes so that it backs off (failures.ts). */
export interface Failure {
  /** The container whose action failed (`pod/` keys), if any. */
  container?: string;
  /**
   * An app container's own settings failed its run (container-config.ts): only that container
   * backs off; the pod's other actions go on (plan-waits.ts), as the kubelet backs off per container.
   */
  alone?: true;
  /** Pod/container names that wait for this image (`image/` keys). */
  for?: string[];
  attempts: number;
  /** `CODE: message`. */
  error: string;
  /** ms epoch of the last failure, and of the next attempt. */
  at: number;
  retryAt: number;
  fingerprint?: string;
}

export type Failures = Record<string, Failure>;

export const ANNOTATION = {
  ...OWNER_KEYS, // owner, pod and container: written into the bundle's config.json too

  source: 'berth.dev/source',
  hash: 'berth.dev/spec-hash',
  spec: 'berth.dev/spec',
  restarts: 'berth.dev/restarts',
  backoff: 'berth.dev/backoff-ms',
  grace: 'berth.dev/grace-seconds',
  /** `true` on a native sidecar (restartPolicy Always): a removed one goes alone (pod-restart.ts). */
  sidecar: 'berth.dev/sidecar',
} as const;
export const OWNER_MANIFESTS = 'manifests';

export interface ObservedContainer {
  id: string;
  name: string;
  state: ContainerState;
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  annotations: Record<string, string>;
  /** `lost`: it ended with the host (no exit code was recorded). */
  reason?: ContainerStatus['reason'];
  /** The kernel's OOM killer ended it. */
  oomKilled?: boolean;
  /** It runs, but its postStart hook has not returned yet (post-start-marks.ts). */
  postStartRunning?: boolean;
}

export interface ObservedState {
  /** Image name → manifest digest, for what the store holds unpacked. */
  images: Map<string, string>;
  /** Image name → when it was last pulled (ms epoch): an Image with pullPolicy Always is pulled again after imageRefreshMs. */
  pulledAt?: Map<string, number>;
  /** Images the store names but has not (wholly) unpacked: a pull unpacks them. */
  notUnpacked?: Set<string>;
  /** Names the store's index.json gives to entries of different digests: no image (content/image-names.ts); a pull names them again. */
  ambiguousImages?: Set<string>;
  containers: ObservedContainer[];
  /** Pods with anything of their own on the host (netns, `<root>/pods/<name>/`), whole or not. */
  sandboxes: Map<string, ObservedSandbox>;
  /**
   * Containers whose record is unreadable (runtime/bundle-owner.ts): their pod when their bundle
   * names it; `standalone` when it says no pod owns them; else their runtime name if conmon still
   * says it, or `mayRun` when nothing does and runc still has state for them.
   */
  badRecords?: { id: string; pod?: string; standalone?: true; name?: string; mayRun?: boolean }[];
  /** What the daemon's prober last found (`<state>/health.json`); none: no daemon has probed. */
  health?: HealthFile;
  /** Host ports other berth roots' pods hold (network/host-ports.ts), each with its holder named. */
  hostPorts?: Array<{ owner: string; ports: PortMapping[] }>;
}

export type Action =
  | {
      kind: 'pull';
      image: string;
      platform?: string;
      /** An Image's `source`: a file:/// archive to import the image from instead of its registry. */
      source?: string;
      /** The pods' containers (`pod/container`) and Images that want it. */
      for: string[];
      reason: string;
    }
  | { kind: 'setup-pod'; pod: string; reason: string }
  | {
      kind: 'run';
      pod: string;
      container: string;
      /** An exited or outdated container of the same name to remove first. */
      replace?: string;
      restarts: number;
      backoffMs: number;
      /** Init containers: wait for the exit, and stop the pod's work on a failure. */
      waitForExit: boolean;
      reason: string;
    }
  | {
      kind: 'remove';
      pod: string;
      container: string;
      id: string;
      graceSeconds: number;
      reason: string;
      /**
       * A gone pod's containers: their place in its stop order (pod-stop.ts). The removes of one
       * pod that have one are stopped together, within one grace period, each in its turn.
       */
      turn?: number;
    }
  /** Stop a container and keep it as it ended (a pod past its activeDeadlineSeconds). */
  | {
      kind: 'stop';
      pod: string;
      container: string;
      id: string;
      graceSeconds: number;
      reason: string;
      /** Its place in the pod's stop order, as a remove's. */
      turn?: number;
    }
  | { kind: 'teardown-pod'; pod: string; reason: string }
  /**
   * Start a pod again from its init containers (one of them changed under its app containers, as
   * the kubelet runs a changed static pod as a new one): its containers are stopped together within
   * its grace period, each in its turn (pod-stop.ts), then removed; the next pass runs it afresh.
   */
  | {
      kind: 'restart-pod';
      pod: string;
      containers: Array<{ container: string; id: string; turn: number }>;
      graceSeconds: number;
      reason: string;
    }
  /** Write a config volume's current content (runtime/config-volumes.ts): in place, no restart. */
  | { kind: 'write-volume'; pod: string; volume: string; reason: string }
  | {
      kind: 'wait';
      pod: string;
      container?: string;
      reason: string /** ms epoch: when to look again */;
      until?: number;
      /** Only a time to look again (a deadline ahead), not something the pod waits for. */
      timer?: true;
      /** The manifest file to read again at `until` (one still being written): a pass of it alone. */
      file?: string;
      /** The pod has failed for good, for this reason (DeadlineExceeded), until its manifest changes. */
      failed?: string;
      /** A container's exit ends it (a dependency running to completion): an apply waits for it. */
      awaitsExit?: boolean;
      /**
       * A running sidecar (`container`) that has not started holds the pod (sidecars.ts): ps says
       * why from the prober's latest finding, not from this pass's (status.ts, pod-views.ts).
       */
      sidecarStart?: true;
      /**
       * The pod waits for the pods it depends on (each of them, met or not) and for these images:
       * ps tells the wait from how they stand when it is asked, not as this pass found them
       * (status.ts, dependency-views.ts).
       */
      held?: { images: string[]; dependsOn: Array<{ pod: string; condition: DependencyCondition }> };
      /**
       * Planning the pod threw (plan-guard.ts): it is kept as it runs, and the error is a problem
       * of its file (loop.ts adds it to the diagnostics), its code kept.
       */
      unplannable?: { file?: string; code: string; message: string };
    };

export interface PlanInput {
  desired: DesiredState;
  observed: ObservedState;
  /** Pods kept exactly as they run (their file has errors, or they are defined twice), with why. */
  frozen: Map<string, string>;
  /** ms since the epoch. */
  now: number;
  /** Pods and pulls that failed and back off (failures.ts). */
  failures?: Failures;
  /**
   * Tasks of earlier passes still in progress, keyed as failures are (`pod/web`, `image/<ref>`),
   * with what each is doing (`pulling …`, `stopping web/main (grace 3600 s)`).
   */
  inFlight?: Map<string, string>;
  /** How often an `Image` with pullPolicy Always is resolved again (ms; none: never on a schedule). */
  imageRefreshMs?: number;
  /** The folder being applied (absolute): only pods whose manifest was in it are pruned. */
  folder: string;
}

export const isActionable = (a: Action) => a.kind !== 'wait';

/**
 * The grace period container `o` is stopped within: its pod's when it was made (kept in its
 * annotations), as the kubelet kills the old pod of a changed static manifest with that pod's own
 * terminationGracePeriodSeconds, not the new one's; `fallback` (the pod's now) for a container made
 * before berth kept it.
 */
export function graceOf(o: ObservedContainer, fallback: number): number {
  const kept = Number(o.annotations[ANNOTATION.grace] ?? Number.NaN);
  return Number.isFinite(kept) && kept >= 0 ? kept : fallback;
}

/** Remove container `container` (runtime `o`) of a pod, within its grace period (graceOf). */
export const removeAction = (
  pod: { name: string; graceSeconds: number },
  container: string,
  o: ObservedContainer,
  reason: string,
): Action => ({
  kind: 'remove',
  pod: pod.name,
  container,
  id: o.id,
  graceSeconds: graceOf(o, pod.graceSeconds),
  reason,
});
