// A pod's init containers changed under it start the whole pod again, as the kubelet does: a static
// pod whose manifest changed is a new pod, killed and started over from its first init container.
// That holds for an init container changed once the app containers have been made, and for one
// added or removed while an app container runs: recreating the changed one alone would do nothing
// (init containers run only before the app containers), an added one would never run, and the app
// containers would go on without what it does, or with what a removed one did. It holds too for a
// pod that has finished for good (Succeeded or Failed: every app container exited and is not
// restarted, or an init container failed under restartPolicy Never): its new spec is a new pod that
// runs again from its first init container, not the added one alone, nor nothing at all; so does a
// finished pod whose app container or sidecar changed, or whose app container was removed (with or
// without init containers: all its app containers run again, not the changed one alone). So the
// pod's containers stop together within its grace period, app containers first, then its sidecars,
// the last started first (sidecars.ts), and are removed; the next pass runs its init containers in
// order, then its app containers. Its sandbox (address, volumes) stays. A changed, added or removed
// app container or sidecar is made again, started or removed alone, as the kubelet restarts a
// running sidecar whose definition changed (plan.ts); before any app container exists, a changed
// init container is made again with those after it (init-order.ts). An init container added or
// removed while every app container has exited and one is restarted after its back-off counts
// alone: the init containers run in order before any starts again (plan.ts), as after a new
// sandbox, whose finished app containers are kept while its init containers are made again. Pure.
import { shouldRestart } from '../runtime/restart.js';
import { type DesiredPod, restartPolicyOf } from './desired.js';
import { type Action, ANNOTATION, graceOf, type ObservedContainer } from './plan-types.js';
import { hasInitFailedForGood, inStopOrder } from './sidecars.js';
import { canonicalSpec, describeChanges, desiredSpecHash, parseStoredSpec } from './spec-hash.js';

const nameIn = (o: ObservedContainer) => o.annotations[ANNOTATION.container] as string;

/**
 * Made as an init container that is not a sidecar. A container made before sidecars were marked
 * is told by its state: once an app container exists, a plain init container no longer runs.
 */
function isPlainInit(o: ObservedContainer): boolean {
  if (parseStoredSpec(o.annotations[ANNOTATION.spec])?.init !== true) return false;
  return o.annotations[ANNOTATION.sidecar] !== 'true' && o.state !== 'running';
}

/**
 * How the pod stands: an app container made, one running (or created), finished for good (every
 * app container made and exited, none restarted; or an init container failed under Never). An app
 * container missing is not finished: after a new sandbox it is made again, and the init containers
 * the sandbox removed run again before it (plan.ts), which is no edit.
 */
function standing(pod: DesiredPod, find: (name: string) => ObservedContainer | undefined) {
  const apps = pod.containers.map((c) => ({ c, o: find(c.name) }));
  const done = apps.every(
    ({ c, o }) =>
      o?.state === 'exited' && !shouldRestart(restartPolicyOf(pod, c), o.exitCode, c.restartRules),
  );
  const failed = pod.initContainers.some((c) => hasInitFailedForGood(pod, c, find(c.name)));
  return {
    made: apps.some(({ o }) => o),
    live: apps.some(({ o }) => o && o.state !== 'exited'),
    finished: (apps.length > 0 && done) || failed,
  };
}

/** What changed in the spec of a finished pod's app containers and sidecars: changed or removed. */
function finishedPodEdits(
  pod: DesiredPod,
  observed: ObservedContainer[],
  find: (name: string) => ObservedContainer | undefined,
  images: ReadonlyMap<string, string>,
): string[] {
  const sidecars = pod.initContainers.filter((c) => c.sidecar);
  const changed = [...sidecars, ...pod.containers].flatMap((c) => {
    const o = find(c.name);
    const digest = images.get(c.image);
    if (!o || !digest || o.annotations[ANNOTATION.hash] === desiredSpecHash(c, digest)) return [];
    const before = parseStoredSpec(o.annotations[ANNOTATION.spec]);
    const what = before ? describeChanges(before, canonicalSpec(c, digest)).join(', ') : 'spec changed';
    return [`${c.sidecar ? 'sidecar' : 'container'} ${c.name} changed (${what})`];
  });
  const known = new Set([...pod.initContainers, ...pod.containers].map((c) => c.name));
  const removed = observed
    .filter((o) => !known.has(nameIn(o)) && parseStoredSpec(o.annotations[ANNOTATION.spec])?.init !== true)
    .map((o) => `container ${nameIn(o)} removed`);
  return [...changed, ...removed];
}

/**
 * The pod's restart when an init container (not a sidecar) that ran differs from its spec and an
 * app container exists or the pod has finished, or one is added or removed while an app container
 * runs or once the pod has finished; a wait while an image it needs is not in the store (nothing
 * stops before it can start again); undefined when nothing of this holds. `images`: image → digest
 * in the store.
 */
export function planInitChanged(
  pod: DesiredPod,
  observed: ObservedContainer[],
  images: ReadonlyMap<string, string>,
): Action[] | undefined {
  const find = (name: string) => observed.find((o) => nameIn(o) === name);
  const { made, live, finished } = standing(pod, find);
  if (!made && !finished) return undefined;
  const edited = live || finished; // an init container added or removed counts
  // Every init container's name, sidecars too: one still in the spec is never removed (a sidecar
  // made before sidecars were marked, not running, looks like a plain init container).
  const inits = new Set(pod.initContainers.map((c) => c.name));
  const removed = edited
    ? observed
        .filter((o) => isPlainInit(o) && !inits.has(nameIn(o)))
        .map((o) => `init container ${nameIn(o)} removed`)
    : [];
  const changed = pod.initContainers.flatMap((c) => {
    const o = find(c.name);
    if (!c.sidecar && !o && edited) return [`init container ${c.name} added`];
    const digest = images.get(c.image);
    if (c.sidecar || !o || !digest || o.annotations[ANNOTATION.hash] === desiredSpecHash(c, digest))
      return [];
    const before = parseStoredSpec(o.annotations[ANNOTATION.spec]);
    const what = before ? describeChanges(before, canonicalSpec(c, digest)).join(', ') : 'spec changed';
    return [`init container ${c.name} changed (${what})`];
  });
  const apps = finished ? finishedPodEdits(pod, observed, find, images) : [];
  if (changed.length + removed.length + apps.length === 0) return undefined;
  const why = `${pod.name}: ${[...changed, ...removed, ...apps].join('; ')}`;
  const missing = [...pod.initContainers, ...pod.containers]
    .flatMap((c) => [c.image, ...(c.volumeImages ?? []).map((v) => v.image)])
    .filter((image) => !images.has(image));
  if (missing.length > 0)
    return [
      {
        kind: 'wait',
        pod: pod.name,
        reason: `${why}: waiting for image ${[...new Set(missing)].join(', ')}`,
      },
    ];
  const containers = inStopOrder(observed).map(({ o, turn }) => ({ container: nameIn(o), id: o.id, turn }));
  // The pod that stops is the one its containers were made for: its grace period (graceOf).
  const grace = Math.max(...observed.map((o) => graceOf(o, pod.graceSeconds)));
  const n = containers.length;
  // A pod that has finished runs again: nothing of it runs, nothing stops.
  const from = pod.initContainers.length > 0 ? ' from its init containers' : '';
  const what =
    finished && observed.every((o) => o.state === 'exited')
      ? `it has finished: ${n === 1 ? 'its container is' : `its ${n} containers are`} removed, then it runs again${from}`
      : `${n === 1 ? 'its container stops' : `its ${n} containers stop`} (grace ${grace} s), then it starts again${from}`;
  return [{ kind: 'restart-pod', pod: pod.name, containers, graceSeconds: grace, reason: `${why}: ${what}` }];
}
