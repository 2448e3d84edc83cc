// The downward API: a pod's own facts as env values and files, as the kubelet gives them.
// `fieldRef`: metadata.name/namespace/uid, one label or annotation (`metadata.labels['k']`, empty
// when absent), all of them (`k="v"` lines, sorted, values quoted as Go's %q does: files only),
// spec.nodeName (the host's name), spec.serviceAccountName, status.hostIP(s), status.podIP(s) (the
// host's address with hostNetwork, as in Kubernetes; on the bridge network a marker the executor
// replaces with the pod's address once its sandbox has one: pod-address.ts; empty with only
// loopback). `resourceFieldRef`: a
// container's cpu or memory limit or request, divided by `divisor` and rounded up; a limit left out
// is the host's capacity, a request left out is the limit when there is one, else 0 (Kubernetes'
// defaults); ephemeral-storage and hugepages-<size>, which berth does not enforce, as given (an
// ephemeral-storage limit left out is the capacity of the file system under the root, hugepages 0,
// as the kubelet merges only cpu, memory and ephemeral-storage from the node). Pure: the host's
// facts are passed in.
import { createHash } from 'node:crypto';
import { BerthError } from '../lib/errors.js';
import { quantityText } from '../manifest/convert.js';
import { namespaceOf } from '../manifest/identity.js';
import type { ContainerManifest, PodManifest } from '../manifest/kinds.js';
import type { FieldRef, ResourceFieldRef } from '../manifest/objects/sources.js';
import { podNetworkMode } from '../network/pod-network.js';
import { ceilScaled, parseQuantity } from '../runtime/quantity.js';

/** What the downward API says about the host. */
export interface NodeFacts {
  name: string;
  /** The host's address (empty when it has none but loopback). */
  ip: string;
  /** Capacity: what a container without a limit may use. */
  milliCpus: number;
  memoryBytes: number;
  /** The size of the file system under berth's root (0 or absent: unknown). */
  ephemeralStorageBytes?: number;
}

/**
 * Where a bridge pod's address goes, until it has one (pod-address.ts). Its NUL cannot come from a
 * manifest's env, command or args (execve takes none), so no value written there is mistaken for it.
 */
export const POD_IP_MARKER = '\0berth:status.podIP\0';

export const UNKNOWN_NODE: NodeFacts = { name: 'localhost', ip: '', milliCpus: 1000, memoryBytes: 0 };

/**
 * A pod's uid: stable for a namespace and name (a pod made again keeps it), in the UUID form
 * Kubernetes uses. The API server makes a random one per pod object; one host has no API server.
 */
export function podUid(namespace: string, name: string): string {
  const h = createHash('sha256').update(`berth.dev/pod\0${namespace}\0${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Go's %q of a string, for the `k="v"` lines of a labels or annotations file. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${goQuote((m as Record<string, string>)[k] as string)}\n`)
    .join('');
}

/** The value of a `fieldRef` (the schema allows only the paths below). */
export function fieldValue(ref: FieldRef, pod: PodManifest, node: NodeFacts): string {
  const path = ref.fieldPath;
  const one = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (one) return pod.metadata[one[1] as 'labels' | 'annotations']?.[one[2] as string] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return namespaceOf(pod.metadata);
    case 'metadata.uid':
      return podUid(namespaceOf(pod.metadata), pod.metadata.name);
    case 'metadata.labels':
      return formatMap(pod.metadata.labels);
    case 'metadata.annotations':
      return formatMap(pod.metadata.annotations);
    case 'spec.nodeName':
      return node.name;
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return node.ip;
    case 'status.podIP':
    case 'status.podIPs':
      return podAddressValue(pod, node);
    default:
      throw new BerthError('ERR_MANIFEST_INVALID', 'invalid', `fieldRef ${path} is not supported`);
  }
}

/** A pod's address: the host's with hostNetwork; the bridge's, filled in later; none on loopback. */
function podAddressValue(pod: PodManifest, node: NodeFacts): string {
  const mode = podNetworkMode(pod);
  return mode === 'host' ? node.ip : mode === 'bridge' ? POD_IP_MARKER : '';
}

const quantity = (v: string | number, what: string) => parseQuantity(quantityText(v, what), what);

/**
 * The value of a `resourceFieldRef` for `container`: its limits and requests; with no limit of its
 * own, its pod's (pod-level resources, as the kubelet merges them), else the host's capacity.
 */
export function resourceValue(
  ref: ResourceFieldRef,
  c: ContainerManifest,
  node: NodeFacts,
  pod?: PodManifest,
): string {
  const dot = ref.resource.indexOf('.');
  const kind = ref.resource.slice(0, dot) as 'limits' | 'requests';
  const resource = ref.resource.slice(dot + 1);
  const limits = c.resources?.limits as Record<string, string | number> | undefined;
  const requests = c.resources?.requests as Record<string, string | number> | undefined;
  const own = limits?.[resource];
  // Pod-level resources are cpu and memory (hugepages ignored): only those fall back to the pod's.
  const isCpuOrMemory = resource === 'cpu' || resource === 'memory';
  const limit = own ?? (isCpuOrMemory ? pod?.spec.resources?.limits?.[resource] : undefined);
  const request = requests?.[resource] ?? own;
  const given = kind === 'limits' ? limit : request;
  const scale = resource === 'cpu' ? 3 : 0; // cpu in thousandths, the others in bytes
  const capacity: Record<string, number> = {
    cpu: node.milliCpus,
    memory: node.memoryBytes,
    'ephemeral-storage': node.ephemeralStorageBytes ?? 0,
  };
  const value =
    given !== undefined
      ? ceilScaled(quantity(given, ref.resource), scale)
      : kind === 'limits'
        ? (capacity[resource] ?? 0)
        : 0;
  // A divisor of 0 is none, as the kubelet reads it (kubectl get -o yaml shows one left out as "0").
  const written = ceilScaled(quantity(ref.divisor ?? '1', `${ref.resource} divisor`), scale);
  const divisor = written === 0 ? 10 ** scale : written;
  return String(Math.ceil(value / divisor));
}
