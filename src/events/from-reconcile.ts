// The events a daemon pass produces, from what it already has: each action as it finishes, each
// container whose state changed between two observations (died, with its exit code or the OOM
// killer; lost with the host), each manifest problem when it first appears. Pure: the daemon
// emits what these return.
import { formatErrorLine } from '../lib/errors.js';
import { type Diagnostic, formatDiagnostic } from '../lib/yaml-validate.js';
import type { Action, ObservedContainer } from '../reconcile/plan-types.js';
import { ANNOTATION, OWNER_MANIFESTS } from '../reconcile/plan-types.js';
import type { BerthEventInput } from './event.js';

/** The event of a finished action (`error` when it failed); none for a wait. */
export function eventOfAction(a: Action, error?: unknown): BerthEventInput | undefined {
  const failed = error !== undefined;
  const message = failed ? `${a.reason}: ${formatErrorLine(error)}` : a.reason;
  switch (a.kind) {
    case 'pull':
      return {
        type: 'image',
        object: a.image,
        reason: failed ? 'PullFailed' : 'Pulled',
        message,
        attributes: { for: a.for.join(',') },
      };
    case 'setup-pod':
      return {
        type: 'pod',
        object: a.pod,
        reason: failed ? 'SetupFailed' : 'SetUp',
        message,
        attributes: { pod: a.pod },
      };
    case 'run': {
      const restarted = a.replace !== undefined && a.restarts > 0;
      return {
        type: 'container',
        object: `${a.pod}/${a.container}`,
        reason: failed ? 'StartFailed' : restarted ? 'Restarted' : 'Started',
        message,
        attributes: { pod: a.pod, container: a.container, restarts: a.restarts },
      };
    }
    case 'remove':
      return {
        type: 'container',
        object: `${a.pod}/${a.container}`,
        reason: failed ? 'RemoveFailed' : 'Removed',
        message,
        attributes: { pod: a.pod, container: a.container, id: a.id },
      };
    case 'stop':
      return {
        type: 'container',
        object: `${a.pod}/${a.container}`,
        reason: failed ? 'StopFailed' : 'Stopped',
        message,
        attributes: { pod: a.pod, container: a.container, id: a.id },
      };
    case 'restart-pod':
      return {
        type: 'pod',
        object: a.pod,
        reason: failed ? 'RestartFailed' : 'Restarting',
        message,
        attributes: { pod: a.pod, containers: a.containers.map((c) => c.container).join(',') },
      };
    case 'teardown-pod':
      return {
        type: 'pod',
        object: a.pod,
        reason: failed ? 'TeardownFailed' : 'Removed',
        message,
        attributes: { pod: a.pod },
      };
    case 'wait':
      return undefined;
  }
}

/** A preStop hook that failed (the stop went on, as the kubelet's FailedPreStopHook). */
export function eventOfPreStopFailure(
  c: { pod: string; container: string; id: string },
  reason: string,
): BerthEventInput {
  return {
    type: 'container',
    object: `${c.pod}/${c.container}`,
    reason: 'PreStopFailed',
    message: reason,
    attributes: { pod: c.pod, container: c.container, id: c.id },
  };
}

const isOwned = (c: ObservedContainer) => c.annotations[ANNOTATION.owner] === OWNER_MANIFESTS;

/** Containers that were running at the last observation and have ended since. */
export function eventsOfExits(
  before: readonly ObservedContainer[],
  after: readonly ObservedContainer[],
): BerthEventInput[] {
  const was = new Map(before.map((c) => [c.id, c]));
  const out: BerthEventInput[] = [];
  for (const c of after) {
    if (!isOwned(c) || c.state !== 'exited' || was.get(c.id)?.state !== 'running') continue;
    const pod = c.annotations[ANNOTATION.pod] ?? '';
    const container = c.annotations[ANNOTATION.container] ?? c.name;
    const lost = c.reason === 'lost';
    const reason = c.oomKilled ? 'OOMKilled' : lost ? 'Lost' : 'Died';
    const attributes: Record<string, string | number | boolean> = { pod, container, id: c.id };
    if (c.exitCode !== null) attributes.exitCode = c.exitCode;
    if (c.oomKilled) attributes.oomKilled = true;
    out.push({
      type: 'container',
      object: `${pod}/${container}`,
      reason,
      message: lost
        ? 'it ended with no exit code recorded (the host went down, or its monitor, conmon, was killed)'
        : `exited with code ${c.exitCode ?? 'unknown'}`,
      attributes,
    });
  }
  return out;
}

/** Manifest problems not reported by the previous pass. */
export function eventsOfDiagnostics(
  before: ReadonlySet<string>,
  now: readonly Diagnostic[],
): BerthEventInput[] {
  return now
    .filter((d) => !before.has(formatDiagnostic(d)))
    .map((d) => ({
      type: 'manifest' as const,
      object: d.file,
      reason: 'Rejected',
      message: formatDiagnostic(d),
      attributes: { code: d.code },
    }));
}
