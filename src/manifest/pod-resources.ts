// Pod-level resources (`spec.resources`, Kubernetes 1.34 PodLevelResources, KEP 2837) as the host
// applies them: the pod gets a cgroup of its own that parents its containers' (runtime/pod-cgroup.ts),
// carrying the pod's cpu quota and shares and its memory limit. Kubernetes' rules, read from the KEP:
// - a container's request defaults to its limit; the containers' requests add up as KEP 753 adds
//   them (app containers and sidecars together, or an init container with the sidecars before it,
//   whichever is more);
// - a pod request left out is those containers' requests when any container has one, else the pod limit;
// - a container with no limit of its own gets the pod's limit in its cgroup (runtimes such as the JVM
//   size themselves by it), and one with no cpu request the least cpu weight, so that among its
//   siblings none takes more than its request says.
// hugepages-<size> is valid there (a warning: berth gives none). Pure.
import { ceilScaled, parseQuantity } from '../runtime/quantity.js';
import type { ContainerResources } from '../runtime/resources.js';
import { cpuLimitOf, memoryLimitOf, quantityText } from './convert.js';
import type { ContainerManifest, PodManifest } from './kinds.js';
import { cpuSharesOf } from './requests.js';

export type PodResourceName = 'cpu' | 'memory';

/** The least cpu shares the kernel takes (Kubernetes' MinShares): a container that requested no cpu. */
export const MIN_CPU_SHARES = 2;

/** Whether Kubernetes admits `name` at pod level (cpu, memory, hugepages-<size>). */
export const isPodResourceName = (name: string) =>
  name === 'cpu' || name === 'memory' || name.startsWith('hugepages-');

/** A cpu quantity in thousandths of a core, or memory in bytes (rounded up); throws when unusable. */
export function amountOf(name: PodResourceName, value: string | number): number {
  const what = `${name} quantity`;
  const q = parseQuantity(quantityText(value, what), what);
  return q.negative ? -ceilScaled(q, name === 'cpu' ? 3 : 0) : ceilScaled(q, name === 'cpu' ? 3 : 0);
}

/** A container's request of `name` as Kubernetes defaults it (its limit when only that is given). */
export function containerRequestOf(c: ContainerManifest, name: PodResourceName): number | undefined {
  const v = c.resources?.requests?.[name] ?? c.resources?.limits?.[name];
  return v === undefined ? undefined : amountOf(name, v);
}

/**
 * The containers' requests of `name` together (KEP 753): app containers and sidecars, or an init
 * container with the sidecars started before it, whichever is more. Undefined when none has one.
 */
export function aggregateRequestOf(pod: PodManifest, name: PodResourceName): number | undefined {
  let any = false;
  const of = (c: ContainerManifest) => {
    const r = containerRequestOf(c, name);
    if (r !== undefined) any = true;
    return r ?? 0;
  };
  let sidecars = 0;
  let init = 0;
  for (const c of pod.spec.initContainers ?? []) {
    if (c.restartPolicy === 'Always') sidecars += of(c);
    else init = Math.max(init, of(c) + sidecars);
  }
  const apps = pod.spec.containers.reduce((sum, c) => sum + of(c), 0);
  return any ? Math.max(apps + sidecars, init) : undefined;
}

/** The pod's request of `name`: its own, else its containers' together, else its limit. */
export function podRequestOf(pod: PodManifest, name: PodResourceName): number | undefined {
  const own = pod.spec.resources?.requests?.[name];
  if (own !== undefined) return amountOf(name, own);
  const limit = pod.spec.resources?.limits?.[name];
  return aggregateRequestOf(pod, name) ?? (limit === undefined ? undefined : amountOf(name, limit));
}

/** The pod cgroup's settings; undefined when the pod sets no cpu or memory at pod level. */
export function podCgroupResourcesOf(pod: PodManifest): ContainerResources | undefined {
  const res = pod.spec.resources;
  if (!res) return undefined;
  const has = (name: PodResourceName) =>
    res.limits?.[name] !== undefined || res.requests?.[name] !== undefined;
  if (!has('cpu') && !has('memory')) return undefined;
  const { memory, cpu } = res.limits ?? {};
  const cpuRequest = podRequestOf(pod, 'cpu');
  const memoryRequest = podRequestOf(pod, 'memory');
  const shares = cpuRequest ? cpuSharesOf(`${cpuRequest}m`) : undefined;
  return {
    ...(memory !== undefined ? { memoryBytes: memoryLimitOf(memory) } : {}),
    ...(cpu !== undefined ? { milliCpus: cpuLimitOf(cpu) } : {}),
    ...(shares !== undefined ? { cpuShares: shares } : {}),
    ...(memoryRequest ? { memoryReservationBytes: memoryRequest } : {}),
  };
}

/**
 * A container's cgroup settings in a pod with a pod cgroup: its own limits, never above the pod's
 * (the pod cgroup bounds it anyway, and a v1 kernel refuses a child cpu quota above its parent's: an
 * init container's limit is not checked against the pod's); the pod's where it has none.
 */
export function withPodDefaults(own: ContainerResources, pod: ContainerResources): ContainerResources {
  const least = (a: number | undefined, b: number | undefined) =>
    a === undefined ? b : b === undefined ? a : Math.min(a, b);
  const memoryBytes = least(own.memoryBytes, pod.memoryBytes);
  const milliCpus = least(own.milliCpus, pod.milliCpus);
  return {
    ...own,
    ...(memoryBytes !== undefined ? { memoryBytes } : {}),
    ...(milliCpus !== undefined ? { milliCpus } : {}),
    // No cpu request: Kubernetes defaults it to the container's own limit, else the least weight.
    ...(own.cpuShares === undefined
      ? { cpuShares: own.milliCpus === undefined ? MIN_CPU_SHARES : cpuSharesOf(`${own.milliCpus}m`) }
      : {}),
  };
}
