// A daemon's observation between passes: a pass whose triggers named what changed reads again only
// the pods in its scope (observe-scope.ts) and takes the rest from the last observation
// (observe-merge.ts); one with scope 'all', or with no last observation, observes everything.
//
// Invariants:
// - the containers directory and the pods' and netns directories are listed on every pass, so a
//   container or sandbox that went is never reused, and a new one is always read;
// - images, unreadable records and health.json are read whole on every pass;
// - an observation that throws leaves nothing to reuse: the next one reads everything, so a failure
//   to read one pod never leaves another as an earlier pass saw it;
// - the daemon's file cache is swept only after a full observation (a partial one reads few files,
//   and would make the next full pass parse every other one again).
import type { ContentStore } from '../content/types.js';
import type { LoadResult } from '../manifest/load.js';
import type { RuntimeDeps } from '../runtime/containers.js';
import type { Reaped } from '../runtime/orphans.js';
import { readRecordsReport } from '../runtime/record.js';
import type { DesiredState, HostLayout } from './desired.js';
import { observe, observeBadRecords, observeContainers, observeHostPorts, observeImages } from './observe.js';
import { observeHealth } from './observe-health.js';
import { countPods, mergeObservation } from './observe-merge.js';
import {
  isReusableContainer,
  isReusableSandbox,
  type ObserveScope,
  type PassScope,
  podsToObserve,
  type ScopeInput,
} from './observe-scope.js';
import type { ObservedState } from './plan-types.js';
import { observeSandboxesWhere } from './pods.js';

/** What a daemon keeps between passes. */
export interface ObservationMemo {
  /** The last pass's observation; none: the next observes everything. */
  last?: ObservedState;
  /** How many pods the last observation read, of how many it holds (`daemon --stats`). */
  read?: { pods: number; of: number };
  /** Orphans the last full pass could not remove (a scoped pass does not look for them). */
  orphansLeft?: Reaped['failed'];
}

export async function observeInScope(
  rt: RuntimeDeps,
  store: ContentStore,
  host: HostLayout,
  memo: ObservationMemo,
  scope: ObserveScope,
): Promise<ObservedState> {
  const last = memo.last;
  memo.last = undefined; // until this observation is whole
  memo.read = undefined;
  if (scope === 'all' || last === undefined) {
    const observed = await observe(rt, store, host);
    const pods = countPods(observed);
    memo.read = { pods, of: pods };
    memo.last = observed;
    return observed;
  }
  const reusable = new Set(last.containers.filter((c) => isReusableContainer(c, scope)).map((c) => c.id));
  const {
    records,
    bad,
    skipped = [],
  } = readRecordsReport(rt.paths.containers, rt.fileCache, (id) => reusable.has(id));
  const [images, seen] = await Promise.all([
    observeImages(rt, store),
    observeSandboxesWhere(host, rt.fileCache, (name) => !isReusableSandbox(name, last, scope)),
  ]);
  const containers = await observeContainers(rt, records);
  const observed = mergeObservation(last, {
    scope,
    containerIds: [...records.map((r) => r.id), ...skipped],
    containers,
    sandboxNames: seen.names,
    sandboxes: seen.sandboxes,
    ...images,
    badRecords: observeBadRecords(rt, bad),
    ...(host.health ? { health: observeHealth(host.health) } : {}),
    ...observeHostPorts(host),
  });
  memo.read = {
    pods: countPods({ ...observed, containers, sandboxes: seen.sandboxes }),
    of: countPods(observed),
  };
  memo.last = observed;
  return observed;
}

/**
 * How a daemon's pass observes the host once it knows the desired state: the pods its triggers
 * (`scope`) and its tasks touched, or everything.
 */
export function observerFor(
  r: { rt: RuntimeDeps; store: ContentStore; host: HostLayout },
  memo: ObservationMemo,
  scope: PassScope | undefined,
  tasks: Pick<ScopeInput, 'inFlight' | 'finished'>,
): (seen: { desired: DesiredState; loaded: LoadResult }) => Promise<ObservedState> {
  return ({ desired, loaded }) => {
    const last = memo.last;
    const pods =
      scope === undefined || scope === 'all' || last === undefined
        ? 'all'
        : podsToObserve({ ...scope, ...tasks, desired, loaded, last });
    return observeInScope(r.rt, r.store, r.host, memo, pods);
  };
}
