// A container's lifecycle hooks on the reconciler's start and stop paths (the timing is
// health/hooks.ts's). The hooks come from the container's stored spec (spec-hash.ts keeps them),
// so a preStop runs for a container whose pod has left the manifests. Network actions go to the
// pod's address (its attachment on the bridge network), or the host's loopback for hostNetwork.
//
// Bounds: a hook runs inside its pod's task, never holding a step slot, and ends at its bound (the
// grace period) or when berth stops (`signal`): RunAction kills what an exec hook left running.

import type { ActionResult, ActionTarget, HandlerAction, RunAction } from '../health/action.js';
import {
  describeHookFailure,
  graceAfterPreStop,
  postStartTimeoutMs,
  runsPreStop,
  storedHooks,
} from '../health/hooks.js';
import { BerthError } from '../lib/errors.js';
import { type LongTimeout, setLongTimeout } from '../lib/long-timeout.js';
import { readAttachment } from '../network/attachments.js';
import {
  type ContainerStatus,
  containerStatus,
  findContainer,
  type RuntimeDeps,
  stopContainer,
} from '../runtime/containers.js';
import type { ContainerRecord } from '../runtime/record.js';
import { ANNOTATION } from './plan-types.js';

export interface HookDeps {
  rt: RuntimeDeps;
  runAction: RunAction;
  /** `<state>/network/<name>/attachments` (HostLayout): where pods' addresses are. */
  attachments?: string;
  /** Berth is stopping: a hook under way is cut. */
  signal?: AbortSignal;
  /** A preStop hook failed (the stop went on): apply and the daemon record a PreStopFailed event. */
  onPreStopFailed?(c: HookedContainer, reason: string): void;
  now?: () => number;
}

/** The container a hook ran in, as events name it. */
export interface HookedContainer {
  pod: string;
  container: string;
  id: string;
}

/** How long past its deadline a hook is waited for before it is given up. */
const HOOK_SLACK_MS = 3000;

/**
 * The action, bounded once more: a handler that outlives its deadline (an exec whose output pipe a
 * process it forked into the background still holds) is given up `HOOK_SLACK_MS` after it, so a
 * hook never holds its pod's task beyond its bound. What it left runs in the container, which the
 * caller stops or keeps as the hook's result says.
 */
function runBounded(
  deps: HookDeps,
  action: HandlerAction,
  target: ActionTarget,
  timeoutMs: number,
): Promise<ActionResult> {
  let timer: LongTimeout | undefined;
  const givenUp = new Promise<ActionResult>((resolve) => {
    // A probe's terminationGracePeriodSeconds (no maximum) may pass setTimeout's 24.8 days.
    timer = setLongTimeout(
      () => resolve({ ok: false, message: `timed out after ${timeoutMs / 1000} s` }),
      timeoutMs + HOOK_SLACK_MS,
    );
  });
  const run = deps.runAction(action, target, { timeoutMs, ...(deps.signal ? { signal: deps.signal } : {}) });
  return Promise.race([run, givenUp]).finally(() => timer?.clear());
}

/** Where the hooks of container `r` run: in it, and at its pod's address. */
async function targetOf(deps: HookDeps, r: ContainerRecord): Promise<ActionTarget> {
  const hooks = storedHooks(r.annotations?.[ANNOTATION.spec]);
  const pod = r.annotations?.[ANNOTATION.pod];
  let address = '';
  if (r.settings.network === 'host') address = '127.0.0.1';
  else if (pod && deps.attachments)
    address = (await readAttachment(deps.attachments, `pod-${pod}`).catch(() => undefined))?.ip ?? '';
  return { containerId: r.id, address, namedPorts: hooks?.namedPorts ?? {} };
}

/** How a stop waits its turn in its pod's stop order (pod-stop.ts). */
export interface StopOptions {
  /** A preStop hook failed (besides `deps.onPreStopFailed`). */
  onHookFailed?(reason: string): void;
  /**
   * Resolves when the containers before this one in its pod's stop order have exited: its preStop
   * runs at once, its stop signal waits for this, all within the one grace period.
   */
  turn?: Promise<void>;
}

/**
 * Stop container `name` as the kubelet kills one: its preStop hook (when it is running and has one)
 * for at most the grace period, then its turn (`o.turn`), then the stop signal with what is left of
 * the grace period (at least 2 s after a hook that ran or a turn waited for; without either, the
 * grace period alone, unlike the kubelet's 2 s floor on every stop: a grace period of 0 stays an
 * immediate SIGKILL), then SIGKILL. A preStop that fails is reported through `o.onHookFailed` and
 * `deps.onPreStopFailed`, and the stop goes on.
 */
export async function stopWithPreStop(
  deps: HookDeps,
  name: string,
  graceSeconds: number,
  o: StopOptions = {},
): Promise<ContainerStatus> {
  const now = deps.now ?? Date.now;
  const started = now();
  const r = await findContainer(deps.rt, name);
  const hooks = storedHooks(r.annotations?.[ANNOTATION.spec]);
  const preStop = runsPreStop(hooks, graceSeconds) ? hooks?.preStop : undefined;
  let waited = false;
  if (preStop && (await containerStatus(deps.rt, r)).state === 'running') {
    waited = true;
    const result = await runBounded(deps, preStop, await targetOf(deps, r), graceSeconds * 1000);
    if (!result.ok) {
      const reason = describeHookFailure('preStop', result);
      o.onHookFailed?.(reason);
      deps.onPreStopFailed?.(
        {
          pod: r.annotations?.[ANNOTATION.pod] ?? r.name,
          container: r.annotations?.[ANNOTATION.container] ?? r.name,
          id: r.id,
        },
        reason,
      );
    }
  }
  if (o.turn) {
    const before = now();
    await o.turn;
    waited ||= graceSeconds > 0 && now() > before;
  }
  const grace = waited ? graceAfterPreStop(graceSeconds, now() - started) : graceSeconds;
  return stopContainer(deps.rt, r.id, grace);
}

/**
 * Run the postStart hook of container `name`, just started. When it fails (or outlasts the grace
 * period) the container is stopped as any other (preStop, signal, SIGKILL) and the failure thrown:
 * the run action fails with the reason, and the container restarts per restartPolicy.
 */
export async function runPostStart(deps: HookDeps, name: string, graceSeconds: number): Promise<void> {
  const r = await findContainer(deps.rt, name);
  const postStart = storedHooks(r.annotations?.[ANNOTATION.spec])?.postStart;
  if (!postStart) return;
  const result = await runBounded(deps, postStart, await targetOf(deps, r), postStartTimeoutMs(graceSeconds));
  if (result.ok || deps.signal?.aborted) return;
  const reason = describeHookFailure('postStart', result);
  await stopWithPreStop(deps, r.id, graceSeconds);
  throw new BerthError('ERR_POSTSTART_HOOK', 'unavailable', reason);
}
