// spec.activeDeadlineSeconds, as the kubelet enforces it: counted from the pod's first start (the
// first container created for this manifest, kept in the pod's record, active-record.ts, so a
// restart of berth or of the host does not reset it); once past, every running container of the
// pod is stopped (its grace period applies, app containers first, then sidecars) and kept as it
// ended, and the pod is Failed with reason DeadlineExceeded: nothing of it starts again, whatever
// its restart policy, until its manifest changes (a new manifest is a new pod, with a new clock).
// Before it, a timer wait wakes the pass at the deadline. Pure.
import type { DesiredPod } from './desired.js';
import { type Action, ANNOTATION, type ObservedContainer } from './plan-types.js';
import type { ActiveRecord } from './sandbox.js';
import { inStopOrder } from './sidecars.js';

export const DEADLINE_EXCEEDED = 'DeadlineExceeded';

/** The record's start, when it is of this manifest (an older manifest's start does not count). */
export function activeSince(pod: DesiredPod, record: ActiveRecord | undefined): number | undefined {
  return pod.activeDeadline && record?.manifest === pod.activeDeadline.manifest ? record.since : undefined;
}

/**
 * What the deadline asks of a pod now: undefined when it has none or has not started; else either
 * a timer wait (before the deadline) or, past it, the stops of what still runs and a wait that
 * marks the pod Failed.
 */
export function planActiveDeadline(
  pod: DesiredPod,
  observed: ObservedContainer[],
  record: ActiveRecord | undefined,
  now: number,
): { expired: boolean; actions: Action[] } | undefined {
  const since = activeSince(pod, record);
  if (!pod.activeDeadline || since === undefined) return undefined;
  const at = since + pod.activeDeadline.seconds * 1000;
  if (now < at) {
    const reason = `${pod.name}: active deadline in ${Math.ceil((at - now) / 1000)} s`;
    return { expired: false, actions: [{ kind: 'wait', pod: pod.name, reason, until: at, timer: true }] };
  }
  const reason = `${pod.name}: ${DEADLINE_EXCEEDED}: active for ${pod.activeDeadline.seconds} s (activeDeadlineSeconds)`;
  const stops = inStopOrder(observed.filter((o) => o.state === 'running')).map(
    ({ o, turn }): Action => ({
      kind: 'stop',
      pod: pod.name,
      container: o.annotations[ANNOTATION.container] as string,
      id: o.id,
      graceSeconds: pod.graceSeconds,
      reason,
      turn,
    }),
  );
  return {
    expired: true,
    actions: [
      ...stops,
      {
        kind: 'wait',
        pod: pod.name,
        reason: `${reason}; not started again until its manifest changes`,
        failed: DEADLINE_EXCEEDED,
      },
    ],
  };
}
