// A pod's identity is its namespace and name, as in Kubernetes (namespace `default` when none). Inside
// berth it is one string naming its directories, network namespace, containers (`<pod>_<container>`)
// and records: the bare name in `default` — today's names, so a host upgraded with pods running
// keeps them and recreates nothing — and `<namespace>.<name>` elsewhere. Both parts are DNS labels
// (no `.`, `/` or `..`), so the string is a safe path component and never collides across
// namespaces or with a `default` pod. Pure.

export const DEFAULT_NAMESPACE = 'default';

/** The namespace of a manifest object (a Pod, ConfigMap, Secret, claim). */
export const namespaceOf = (meta: { namespace?: string }): string => meta.namespace ?? DEFAULT_NAMESPACE;

export function podIdentity(metadata: { name: string; namespace?: string }): string {
  const ns = namespaceOf(metadata);
  return ns === DEFAULT_NAMESPACE ? metadata.name : `${ns}.${metadata.name}`;
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
