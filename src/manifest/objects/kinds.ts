// The v1 objects a Pod refers to, as TypeScript sees them after schema validation (schemas/ is the
// truth): ConfigMap and Secret (values for env and volumes), PersistentVolumeClaim (names a berth
// volume) and Service (accepted, ignored with a warning). Types only.

export interface ObjectMeta {
  name: string;
  /** `default` when not given, as in Kubernetes. */
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface ConfigMapDoc {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data?: Record<string, string>;
  /** base64. */
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

export interface SecretDoc {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: ObjectMeta;
  /** base64. */
  data?: Record<string, string>;
  /** Text; a key here wins over the same key in `data` (the API server merges them so). */
  stringData?: Record<string, string>;
  immutable?: boolean;
  type?: string;
}

export interface ClaimDoc {
  apiVersion: 'v1';
  kind: 'PersistentVolumeClaim';
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
}

export interface ServiceDoc {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
}

export type ObjectDoc = ConfigMapDoc | SecretDoc | ClaimDoc | ServiceDoc;

export const DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson';
export const DOCKER_CONFIG_KEY = '.dockerconfigjson';
