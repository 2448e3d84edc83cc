// What the host has, for the planner: images in the store (name → manifest digest), every
// container with its annotations and live state (read from files), and the pods set up.
import type { ContentStore } from '../content/types.js';
import { containerStatus, type RuntimeDeps } from '../runtime/containers.js';
import { readRecords } from '../runtime/record.js';
import type { HostLayout } from './desired.js';
import type { ObservedState } from './plan.js';
import { type PodView, podViews } from './pod-views.js';
import { podsSetUp } from './pods.js';
import type { StatusFile } from './status-file.js';

export async function observe(
  rt: RuntimeDeps,
  store: ContentStore,
  host: HostLayout,
): Promise<ObservedState> {
  const [records, images, pods] = await Promise.all([
    readRecords(rt.paths.containers),
    store.listImages(),
    podsSetUp(host),
  ]);
  const containers = await Promise.all(
    records.map(async (r) => {
      const s = await containerStatus(rt, r);
      return {
        id: r.id,
        name: r.name,
        state: s.state,
        exitCode: s.exitCode,
        startedAt: s.startedAt,
        finishedAt: s.finishedAt,
        annotations: r.annotations ?? {},
      };
    }),
  );
  return { images: new Map(images.map((i) => [i.name, i.target.digest])), containers, podsSetUp: pods };
}

/** The pods as `berth ps` shows them: the last reconcile's status merged with what exists. */
export async function observePods(rt: RuntimeDeps, status: StatusFile): Promise<PodView[]> {
  const records = await readRecords(rt.paths.containers);
  const observed = await Promise.all(
    records.map(async (record) => ({ record, status: await containerStatus(rt, record) })),
  );
  return podViews(observed, status.read());
}
