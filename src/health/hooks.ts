// Lifecycle hooks' timing, as the kubelet has it (pkg/kubelet/kuberuntime): postStart runs right
// after the container starts and its failure kills the container; preStop runs before the stop
// signal, inside the pod's grace period, and the stop signal gets what is left of that period, at
// least 2 s. berth bounds postStart by the grace period too (the kubelet waits for it without
// bound): a hook that never ends must not hold its pod's task for ever. Pure.
import type { ActionResult } from './action.js';
import type { LifecycleHooks } from './probe-spec.js';

/** The kubelet's minimumGracePeriodInSeconds: the stop signal's least time after a preStop. */
export const MIN_STOP_SECONDS = 2;

export type HookKind = 'postStart' | 'preStop';

/** The seconds the stop signal gets after a preStop that took `elapsedMs` of `graceSeconds`. */
export function graceAfterPreStop(graceSeconds: number, elapsedMs: number): number {
  return Math.max(MIN_STOP_SECONDS, graceSeconds - elapsedMs / 1000);
}

/** Whether a stop with `graceSeconds` runs the preStop hook (the kubelet skips it at 0). */
export function runsPreStop(hooks: LifecycleHooks | undefined, graceSeconds: number): boolean {
  return hooks?.preStop !== undefined && graceSeconds > 0;
}

/** How long a postStart hook may run before it has failed. */
export function postStartTimeoutMs(graceSeconds: number): number {
  return Math.max(1, graceSeconds) * 1000;
}

/** Why a hook failed, for `ps`, events and the log: `postStart hook failed: exit code 1`. */
export function describeHookFailure(kind: HookKind, result: ActionResult): string {
  return `${kind} hook failed: ${result.message}`;
}

/** The hooks a container was created with, from its stored spec (absent or unreadable: none). */
export function storedHooks(specText: string | undefined): LifecycleHooks | undefined {
  if (!specText) return undefined;
  try {
    const spec = JSON.parse(specText) as { lifecycle?: LifecycleHooks };
    const l = spec.lifecycle;
    return l && typeof l === 'object' ? l : undefined;
  } catch {
    return undefined;
  }
}
