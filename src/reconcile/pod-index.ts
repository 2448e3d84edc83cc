// Lookups by pod name, built once per pass and kept with what they index (a WeakMap on the array:
// desired state and an observation are built anew each pass; one whose length changed since, a
// test's observation grown by a container, is indexed again): a lookup that scanned every pod, or
// every container, inside a loop over pods or actions cost their product.
import type { DesiredPod, DesiredState } from './desired.js';
import { ANNOTATION, type ObservedContainer } from './plan-types.js';

type Index<V> = { length: number; byName: Map<string, V> };
const desiredIndex = new WeakMap<DesiredPod[], Index<DesiredPod>>();
const observedIndex = new WeakMap<ObservedContainer[], Index<ObservedContainer[]>>();

function indexOf<T, V>(
  cache: WeakMap<T[], Index<V>>,
  list: T[],
  add: (byName: Map<string, V>, item: T) => void,
): Map<string, V> {
  const known = cache.get(list);
  if (known?.length === list.length) return known.byName;
  const byName = new Map<string, V>();
  for (const item of list) add(byName, item);
  cache.set(list, { length: list.length, byName });
  return byName;
}

/** The desired pod of that name (the first, should two have it). */
export function desiredPodNamed(desired: DesiredState, name: string): DesiredPod | undefined {
  return indexOf(desiredIndex, desired.pods, (byName, p) => {
    if (!byName.has(p.name)) byName.set(p.name, p);
  }).get(name);
}

/** The observed containers that say they are of pod `pod` (any owner), in their order. */
export function containersOfPod(containers: ObservedContainer[], pod: string): ObservedContainer[] {
  const byPod = indexOf(observedIndex, containers, (byName, c) => {
    const name = c.annotations[ANNOTATION.pod];
    if (name === undefined) return;
    const list = byName.get(name);
    if (list) list.push(c);
    else byName.set(name, [c]);
  });
  return byPod.get(pod) ?? [];
}
