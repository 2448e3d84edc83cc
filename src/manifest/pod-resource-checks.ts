// `spec.resources` checked as Kubernetes validates pod-level resources (validatePodResources, KEP
// 2837): only cpu, memory and hugepages-<size> (another name is refused: a later Kubernetes may take
// it, berth does not); each value one the host can use (the container converters); a request no
// more than its limit; the containers' requests together (pod-resources.ts) no more than the pod's
// request or limit; no app container's limit above the pod's. Each problem is a diagnostic at its
// field, naming it.
import { isBerthError } from '../lib/errors.js';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { cpuLimitOf, memoryLimitOf } from './convert.js';
import type { PodManifest } from './kinds.js';
import { aggregateRequestOf, amountOf, isPodResourceName, type PodResourceName } from './pod-resources.js';
import { at, type ParsedDoc } from './position.js';
import { cpuSharesOf, memoryReservationOf } from './requests.js';

type Kind = 'requests' | 'limits';
const NAMES: PodResourceName[] = ['cpu', 'memory'];
const field = (kind: Kind, name: string) => `spec.resources.${kind}.${name}`;
const pathOf = (kind: Kind, name: string) => ['spec', 'resources', kind, name];

const CONVERT: Record<Kind, Record<PodResourceName, (v: string | number) => unknown>> = {
  limits: { cpu: cpuLimitOf, memory: memoryLimitOf },
  requests: { cpu: cpuSharesOf, memory: memoryReservationOf },
};

/** The message of what `convert` throws, or undefined when it converts. */
function problemOf(convert: () => unknown): { code: string; message: string } | undefined {
  try {
    convert();
    return undefined;
  } catch (err) {
    return {
      code: isBerthError(err) ? err.code : 'ERR_MANIFEST_INVALID',
      message: err instanceof Error ? err.message : String(err),
    };
  }
}

export function checkPodResources(p: ParsedDoc): Diagnostic[] {
  const pod = p.value as PodManifest;
  const res = pod.spec.resources;
  if (!res) return [];
  const out: Diagnostic[] = [];
  const usable = new Set<string>();
  for (const kind of ['requests', 'limits'] as const) {
    for (const [name, value] of Object.entries(res[kind] ?? {})) {
      if (name.startsWith('hugepages-')) {
        const message = `${field(kind, name)} is ignored: berth limits a pod's cpu and memory only (no hugepages)`;
        out.push(at(p, pathOf(kind, name), 'WARN_MANIFEST_IGNORED', message));
      } else if (!isPodResourceName(name)) {
        // pids is Kubernetes 1.37's, alpha (PerPodPIDLimit, off by default: a cluster without the gate
        // refuses it as berth does; with it, a limit of 128 to 16384 only): named, so it reads as not yet.
        const newer =
          name === 'pids'
            ? ' (pod-level pids, Kubernetes 1.37 alpha PerPodPIDLimit, off by default, is not supported yet)'
            : '';
        const message = `${field(kind, name)}: berth takes cpu, memory and hugepages-<size> at pod level, as Kubernetes 1.34 admits them${newer}`;
        out.push(at(p, pathOf(kind, name), 'ERR_MANIFEST_UNSUPPORTED', message));
      } else {
        const bad = problemOf(() => CONVERT[kind][name as PodResourceName](value));
        if (bad) out.push(at(p, pathOf(kind, name), bad.code, `${field(kind, name)}: ${bad.message}`));
        else usable.add(`${kind}.${name}`);
      }
    }
  }
  for (const name of NAMES) out.push(...consistency(p, pod, name, usable));
  return out;
}

/** A request above the limit, containers asking for more than the pod, a container limit above the pod's. */
function consistency(
  p: ParsedDoc,
  pod: PodManifest,
  name: PodResourceName,
  usable: Set<string>,
): Diagnostic[] {
  const res = pod.spec.resources ?? {};
  const request = usable.has(`requests.${name}`) ? amountOf(name, res.requests?.[name] as string) : undefined;
  const limit = usable.has(`limits.${name}`) ? amountOf(name, res.limits?.[name] as string) : undefined;
  const text = (kind: Kind) => String(res[kind]?.[name]);
  const out: Diagnostic[] = [];
  if (request !== undefined && limit !== undefined && request > limit) {
    const message = `${field('requests', name)} ${text('requests')} is more than the pod's limit ${text('limits')} (a cluster rejects it too)`;
    out.push(at(p, pathOf('requests', name), 'ERR_MANIFEST_INVALID', message));
  }
  let together: number | undefined;
  try {
    together = aggregateRequestOf(pod, name);
  } catch {
    together = undefined; // a container's own diagnostic says what is wrong with it
  }
  const bound = request ?? limit;
  if (together !== undefined && bound !== undefined && together > bound) {
    const kind = request !== undefined ? 'requests' : 'limits';
    const unit = name === 'cpu' ? `${together}m` : `${together} bytes`;
    const message = `${field(kind, name)} ${text(kind)} is less than its containers' requests together (${unit}) (a cluster rejects it too)`;
    out.push(at(p, pathOf(kind, name), 'ERR_MANIFEST_INVALID', message));
  }
  if (limit === undefined) return out;
  for (const [i, c] of pod.spec.containers.entries()) {
    const own = c.resources?.limits?.[name];
    if (own === undefined) continue;
    let over: boolean;
    try {
      over = amountOf(name, own) > limit;
    } catch {
      continue;
    }
    if (!over) continue;
    const message = `container ${c.name}: ${name} limit ${own} is more than the pod's limit ${text('limits')} (a cluster rejects it too)`;
    out.push(at(p, ['spec', 'containers', i, 'resources', 'limits', name], 'ERR_MANIFEST_INVALID', message));
  }
  return out;
}
