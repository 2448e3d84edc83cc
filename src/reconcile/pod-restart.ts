// An init container changed once the pod's app containers have been made, or added while one of
// them runs, starts the whole pod again, as the kubelet does: a static pod whose manifest changed
// is a new pod, killed and started over from its first init container. Recreating the changed init
// container alone would do nothing (init containers run only before the app containers), an added
// one would never run, and the app containers would go on without what it does. So the pod's containers stop together within its grace period, app
// containers first, then its sidecars, the last started first (sidecars.ts), and are removed; the
// next pass runs its init containers in order, then its app containers. Its sandbox (address,
// volumes) stays. A changed app container or sidecar is recreated alone, as the kubelet restarts a
// running sidecar whose definition changed (plan.ts); before any app container exists, a changed
// init container is made again with those after it (init-order.ts). An added init container counts
// only while an app container runs (or is created): once every one has exited, the init containers
// run in order before any starts again (plan.ts), as after a new sandbox, whose finished app
// containers are kept while its init containers are made again. Pure.
import type { DesiredPod } from './desired.js';
import { type Action, ANNOTATION, graceOf, type ObservedContainer } from './plan-types.js';
import { inStopOrder } from './sidecars.js';
import { canonicalSpec, describeChanges, desiredSpecHash, parseStoredSpec } from './spec-hash.js';

const nameIn = (o: ObservedContainer) => o.annotations[ANNOTATION.container] as string;

/**
 * The pod's restart when an init container (not a sidecar) that ran differs from its spec and an
 * app container exists, or one that never ran is in the spec while an app container runs; a wait while an image it needs is not in the store (nothing stops before
 * it can start again); undefined when nothing of this holds. `images`: image → digest in the store.
 */
export function planInitChanged(
  pod: DesiredPod,
  observed: ObservedContainer[],
  images: ReadonlyMap<string, string>,
): Action[] | undefined {
  const find = (name: string) => observed.find((o) => nameIn(o) === name);
  if (!pod.containers.some((c) => find(c.name))) return undefined;
  const live = pod.containers.some((c) => {
    const state = find(c.name)?.state;
    return state !== undefined && state !== 'exited';
  });
  const changed = pod.initContainers.flatMap((c) => {
    const o = find(c.name);
    if (!c.sidecar && !o && live) return [`init container ${c.name} added`];
    const digest = images.get(c.image);
    if (c.sidecar || !o || !digest || o.annotations[ANNOTATION.hash] === desiredSpecHash(c, digest))
      return [];
    const before = parseStoredSpec(o.annotations[ANNOTATION.spec]);
    const what = before ? describeChanges(before, canonicalSpec(c, digest)).join(', ') : 'spec changed';
    return [`init container ${c.name} changed (${what})`];
  });
  if (changed.length === 0) return undefined;
  const why = `${pod.name}: ${changed.join('; ')}`;
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
  const count = containers.length === 1 ? 'its container stops' : `its ${containers.length} containers stop`;
  // The pod that stops is the one its containers were made for: its grace period (graceOf).
  const grace = Math.max(...observed.map((o) => graceOf(o, pod.graceSeconds)));
  return [
    {
      kind: 'restart-pod',
      pod: pod.name,
      containers,
      graceSeconds: grace,
      reason: `${why}: ${count} (grace ${grace} s), then it starts again from its init containers`,
    },
  ];
}
