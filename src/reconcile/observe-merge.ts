// A partial observation (observe-delta.ts: the pods in scope read again, everything else only
// listed) merged into the last one: the host as a full observation would have seen it, as long as
// nothing out of scope changed (observe-scope.ts says when that holds). Pure.
import {
  isReusableContainer,
  isReusableSandbox,
  type ObserveScope,
  podOfContainer,
} from './observe-scope.js';
import type { ObservedContainer, ObservedState } from './plan-types.js';
import type { ObservedSandbox } from './sandbox.js';

export interface PartialObservation {
  /** The pods read again. */
  scope: ReadonlySet<string>;
  /** Every container id the containers directory lists now, read or not. */
  containerIds: readonly string[];
  /** The containers read this time (those isReusableContainer refused, and new ones). */
  containers: readonly ObservedContainer[];
  /** Every pod with a sandbox now (netns or directory), read or not. */
  sandboxNames: readonly string[];
  /** The sandboxes read this time. */
  sandboxes: ReadonlyMap<string, ObservedSandbox>;
  /** Read whole on every pass. */
  images: ObservedState['images'];
  pulledAt?: ObservedState['pulledAt'];
  notUnpacked?: ObservedState['notUnpacked'];
  ambiguousImages?: ObservedState['ambiguousImages'];
  badRecords?: ObservedState['badRecords'];
  health?: ObservedState['health'];
  hostPorts?: ObservedState['hostPorts'];
}

/**
 * The last observation with the part read again put in: a container or sandbox that is gone is
 * dropped, one read again replaces its old self in place (the order is the records' creation
 * order, as a full observation gives it), and new ones come last.
 */
export function mergeObservation(last: ObservedState, part: PartialObservation): ObservedState {
  const scope: ObserveScope = part.scope;
  const listed = new Set(part.containerIds);
  const fresh = new Map(part.containers.map((c) => [c.id, c]));
  const containers: ObservedContainer[] = [];
  for (const c of last.containers) {
    const now = fresh.get(c.id);
    if (now) {
      containers.push(now);
      fresh.delete(c.id);
    } else if (listed.has(c.id) && isReusableContainer(c, scope)) containers.push(c);
  }
  containers.push(...fresh.values());
  const sandboxes = new Map<string, ObservedSandbox>();
  for (const name of part.sandboxNames) {
    const s =
      part.sandboxes.get(name) ??
      (isReusableSandbox(name, last, scope) ? last.sandboxes.get(name) : undefined);
    if (s) sandboxes.set(name, s);
  }
  return {
    images: part.images,
    ...(part.pulledAt ? { pulledAt: part.pulledAt } : {}),
    ...(part.notUnpacked ? { notUnpacked: part.notUnpacked } : {}),
    ...(part.ambiguousImages ? { ambiguousImages: part.ambiguousImages } : {}),
    containers,
    sandboxes,
    ...(part.badRecords ? { badRecords: part.badRecords } : {}),
    ...(part.health ? { health: part.health } : {}),
    ...(part.hostPorts ? { hostPorts: part.hostPorts } : {}),
  };
}

/** How many pods an observation holds (with a sandbox, or a container a manifest made). */
export function countPods(o: ObservedState): number {
  const pods = new Set(o.sandboxes.keys());
  for (const c of o.containers) {
    const pod = podOfContainer(c);
    if (pod !== undefined) pods.add(pod);
  }
  return pods.size;
}
