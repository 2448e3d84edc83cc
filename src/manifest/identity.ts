// A pod's identity is its namespace and name, as in Kubernetes (namespace `default` when none). Inside
// berth it is one string naming its directories, network namespace, containers (`<pod>_<container>`)
// and records: the bare name in `default` — today's names, so a host upgraded with pods running
// keeps them and recreates nothing — and `<namespace>.<name>` elsewhere, and for a name with dots
// (a DNS subdomain, as a cluster takes: `etcd-node1.example.com`) in `default` too. A namespace is a
// DNS label (no dot), so the part before the first dot of a dotted identity is always its namespace:
// never a collision across namespaces or with a `default` pod; no `/` or `..`, so a safe path
// component (a long one is refused by its containers' runtime names, convert.ts). Pure.

export const DEFAULT_NAMESPACE = 'default';

/** The namespace of a manifest object (a Pod, ConfigMap, Secret, claim). */
export const namespaceOf = (meta: { namespace?: string }): string => meta.namespace ?? DEFAULT_NAMESPACE;

export function podIdentity(metadata: { name: string; namespace?: string }): string {
  const ns = namespaceOf(metadata);
  return ns === DEFAULT_NAMESPACE && !metadata.name.includes('.') ? metadata.name : `${ns}.${metadata.name}`;
}

/** The namespace of an identity podIdentity made. */
export function namespaceOfIdentity(identity: string): string {
  const dot = identity.indexOf('.');
  return dot < 0 ? DEFAULT_NAMESPACE : identity.slice(0, dot);
}

/** A `berth.dev/depends-on` entry resolved in the pod's namespace (a pod never names another namespace). */
export function dependencyIdentity(from: { name: string; namespace?: string }, name: string): string {
  return podIdentity({ name, ...(from.namespace ? { namespace: from.namespace } : {}) });
}

/** The pod identity of a `Pod/<name>` or `Pod/<namespace>/<name>` key (settle.ts keyOf). */
export function identityOfPodKey(key: string): string {
  const [name, ns] = key.slice('Pod/'.length).split('/').reverse() as [string, string | undefined];
  return podIdentity({ name, ...(ns ? { namespace: ns } : {}) });
}

/**
 * The identity a user means by NAME on the command line: NAME itself, else NAME in `default` (a
 * dotted name there is `default.NAME`).
 */
export function identityCandidates(name: string): string[] {
  return [name, `${DEFAULT_NAMESPACE}.${name}`];
}

/** A pod's hostname when spec.hostname is not given: its name, cut to 63 characters as the kubelet does (no trailing `-` or `.`). */
export function hostnameOfPodName(name: string): string {
  return name.length <= 63 ? name : name.slice(0, 63).replace(/[-.]+$/, '');
}
