// The manifest kinds as TypeScript sees them after schema validation (schemas/ is the truth).
import type { ObjectDoc } from './objects/kinds.js';
import type {
  ConfigMapVolume,
  DownwardAPIVolume,
  EnvFromSource,
  EnvVar,
  ProjectedVolume,
  SecretVolume,
} from './objects/sources.js';

export interface ContainerManifest {
  name: string;
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** `Always` on an init container: a native sidecar; else over the pod's restartPolicy, for this container. */
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  /** Tried in order on each exit: the first that matches restarts the container (needs restartPolicy). */
  restartPolicyRules?: Array<{
    /** RestartAllContainers is refused by restart-checks.ts. */
    action: 'Restart' | 'RestartAllContainers';
    exitCodes: { operator: 'In' | 'NotIn'; values?: number[] };
  }>;
  terminationMessagePath?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  /** A terminal for the process (its output still goes to the log). */
  tty?: boolean;
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  ports?: Array<{
    name?: string;
    containerPort: number;
    protocol?: string;
    hostPort?: number;
    hostIP?: string;
  }>;
  resources?: {
    requests?: { cpu?: string | number; memory?: string | number };
    limits?: { cpu?: string | number; memory?: string | number };
  };
  volumeMounts?: Array<{
    name: string;
    mountPath: string;
    readOnly?: boolean;
    subPath?: string;
    /** A subPath with `$(VAR)` references to the container's environment, expanded at create. */
    subPathExpr?: string;
    mountPropagation?: 'None' | 'HostToContainer' | 'Bidirectional';
    recursiveReadOnly?: 'Disabled' | 'IfPossible' | 'Enabled';
  }>;
  securityContext?: {
    runAsUser?: number;
    runAsGroup?: number;
    readOnlyRootFilesystem?: boolean;
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
    runAsNonRoot?: boolean;
    procMount?: 'Default' | 'Unmasked';
    cgroupOptions?: { mountMode?: 'ReadOnly' | 'ReadWrite' };
    seccompProfile?: SeccompProfile;
  };
  /** postStart and preStop are read by src/health; stopSignal (a Linux name, stop-signal-checks.ts) here. */
  lifecycle?: { stopSignal?: string };
}

export interface SeccompProfile {
  type: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  localhostProfile?: string;
}

export interface PodSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  fsGroup?: number;
  fsGroupChangePolicy?: 'Always' | 'OnRootMismatch';
  supplementalGroups?: number[];
  /** A sysctl's value may be left out: Sysctl.Value is a plain string, "" to a cluster. */
  sysctls?: Array<{ name: string; value?: string }>;
  seccompProfile?: SeccompProfile;
}

export interface VolumeManifest {
  name: string;
  hostPath?: { path: string; type?: string };
  emptyDir?: { medium?: '' | 'Memory'; sizeLimit?: string | number; mode?: number };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  configMap?: ConfigMapVolume;
  secret?: SecretVolume;
  downwardAPI?: DownwardAPIVolume;
  projected?: ProjectedVolume;
  /** An image's files, read-only (Kubernetes' image volume). */
  image?: { reference: string; pullPolicy?: 'Always' | 'IfNotPresent' | 'Never' };
}

/** `spec.resources`: quantities by resource name (the checks admit cpu, memory and hugepages-*). */
export interface PodResourcesManifest {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

export interface PodManifest {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    containers: ContainerManifest[];
    initContainers?: ContainerManifest[];
    restartPolicy?: 'Always' | 'OnFailure' | 'Never';
    terminationGracePeriodSeconds?: number;
    activeDeadlineSeconds?: number;
    hostNetwork?: boolean;
    hostPID?: boolean;
    hostIPC?: boolean;
    shareProcessNamespace?: boolean;
    hostUsers?: boolean;
    /** linux (windows is refused): lifecycle.stopSignal needs it, as in Kubernetes. */
    os?: { name: 'linux' | 'windows' };
    securityContext?: PodSecurityContext;
    /** Pod-level requests and limits (cpu, memory; hugepages-<size> ignored): pod-resources.ts. */
    resources?: PodResourcesManifest;
    hostname?: string;
    hostnameOverride?: string;
    volumes?: VolumeManifest[];
    /** An entry with no name (or an empty one) is skipped, as the kubelet skips it. */
    imagePullSecrets?: Array<{ name?: string }>;
    serviceAccountName?: string;
    dnsPolicy?: 'Default' | 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'None';
    dnsConfig?: {
      nameservers?: string[];
      searches?: string[];
      options?: Array<{ name: string; value?: string }>;
    };
    hostAliases?: Array<{ ip: string; hostnames?: string[] }>;
  };
}

export interface ImageManifestDoc {
  apiVersion: 'berth.dev/v1alpha1';
  kind: 'Image';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    ref: string;
    platform?: string;
    pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
    /** file:/// archive to import from instead of a registry. */
    source?: string;
    /** Previous digests of ref kept from image GC. */
    keep?: number;
  };
}

export type ManifestDoc = PodManifest | ImageManifestDoc | ObjectDoc;

/** A document and where it came from. */
export interface LoadedDoc {
  doc: ManifestDoc;
  file: string;
  line: number;
}
