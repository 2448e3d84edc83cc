// The parts of a Pod that take values from elsewhere, as Kubernetes defines them: env from
// ConfigMaps, Secrets and the downward API, envFrom, and the configMap, secret, downwardAPI and
// projected volumes. Types only (schemas/pod.schema.json is the truth).

export interface KeyRef {
  name: string;
  key: string;
  optional?: boolean;
}

export interface FieldRef {
  fieldPath: string;
  apiVersion?: string;
}

export interface ResourceFieldRef {
  resource: string;
  containerName?: string;
  divisor?: string | number;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: KeyRef;
    secretKeyRef?: KeyRef;
    fieldRef?: FieldRef;
    resourceFieldRef?: ResourceFieldRef;
  };
}

export interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}

export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export interface ObjectVolume {
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
}

export interface ConfigMapVolume extends ObjectVolume {
  name: string;
}

export interface SecretVolume extends ObjectVolume {
  secretName: string;
}

export interface DownwardFile {
  path: string;
  fieldRef?: FieldRef;
  resourceFieldRef?: ResourceFieldRef;
  mode?: number;
}

export interface DownwardAPIVolume {
  items?: DownwardFile[];
  defaultMode?: number;
}

export interface ProjectedVolume {
  defaultMode?: number;
  sources: Array<{
    configMap?: { name: string; items?: KeyToPath[]; optional?: boolean };
    secret?: { name: string; items?: KeyToPath[]; optional?: boolean };
    downwardAPI?: { items?: DownwardFile[] };
  }>;
}
