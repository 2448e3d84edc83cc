// The ConfigMaps and Secrets of a folder, by (namespace, name), with their values decoded: the one
// place a Pod's references are looked up. A namespace left out is `default`, as in Kubernetes. Pure.

import { namespaceOf } from '../identity.js';
import { type ConfigMapDoc, DOCKER_CONFIG_JSON, DOCKER_CONFIG_KEY, type SecretDoc } from './kinds.js';

export type ObjectKind = 'ConfigMap' | 'Secret';

export interface StoredObject {
  kind: ObjectKind;
  namespace: string;
  name: string;
  /** Every key's value, decoded (Secret `data` and ConfigMap `binaryData` are base64). */
  data: Map<string, Buffer>;
  /** The keys env can take: all of a Secret's, a ConfigMap's `data` only (the kubelet's rule). */
  envKeys: Set<string>;
  type?: string;
}

export interface ObjectStore {
  get(kind: ObjectKind, namespace: string, name: string): StoredObject | undefined;
  /** Claim names defined by PersistentVolumeClaim objects, `namespace/name`. */
  claims: Set<string>;
}

/**
 * Decoded once per document: a file that did not change hands every pass the same parsed object
 * (the load cache), and a pass should not decode 100 ConfigMaps again to find nothing changed.
 */
const decoded = new WeakMap<object, Map<string, Buffer>>();

/** A ConfigMap's or Secret's keys and decoded values (stringData wins over data, as the API merges). */
export function objectData(doc: ConfigMapDoc | SecretDoc): Map<string, Buffer> {
  const hit = decoded.get(doc);
  if (hit) return hit;
  const out = new Map<string, Buffer>();
  decoded.set(doc, out);
  if (doc.kind === 'ConfigMap') {
    for (const [k, v] of Object.entries(doc.data ?? {})) out.set(k, Buffer.from(v, 'utf8'));
    for (const [k, v] of Object.entries(doc.binaryData ?? {})) out.set(k, Buffer.from(v, 'base64'));
  } else {
    for (const [k, v] of Object.entries(doc.data ?? {})) out.set(k, Buffer.from(v, 'base64'));
    for (const [k, v] of Object.entries(doc.stringData ?? {})) out.set(k, Buffer.from(v, 'utf8'));
  }
  return out;
}

const keyOf = (kind: ObjectKind, namespace: string, name: string) => `${kind}\0${namespace}\0${name}`;

export function buildObjectStore(
  docs: Array<{ kind: string; metadata: { name: string; namespace?: string } }>,
): ObjectStore {
  const byKey = new Map<string, StoredObject>();
  const claims = new Set<string>();
  for (const doc of docs) {
    const namespace = namespaceOf(doc.metadata);
    if (doc.kind === 'PersistentVolumeClaim') claims.add(`${namespace}/${doc.metadata.name}`);
    if (doc.kind !== 'ConfigMap' && doc.kind !== 'Secret') continue;
    const d = doc as ConfigMapDoc | SecretDoc;
    byKey.set(keyOf(d.kind, namespace, d.metadata.name), {
      kind: d.kind,
      namespace,
      name: d.metadata.name,
      data: objectData(d),
      envKeys: new Set(d.kind === 'Secret' ? objectData(d).keys() : Object.keys(d.data ?? {})),
      ...(d.kind === 'Secret' ? { type: d.type ?? 'Opaque' } : {}),
    });
  }
  return {
    get: (kind, namespace, name) => byKey.get(keyOf(kind, namespace, name)),
    claims,
  };
}

export const isDockerConfigSecret = (o: StoredObject): boolean =>
  o.kind === 'Secret' && o.type === DOCKER_CONFIG_JSON && o.data.has(DOCKER_CONFIG_KEY);
