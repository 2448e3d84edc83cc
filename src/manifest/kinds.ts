// The manifest kinds as TypeScript sees them after schema validation (schemas/ is the truth).

export interface ContainerManifest {
  name: string;
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: Array<{ name: string; value?: string }>;
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
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }>;
  securityContext?: {
    runAsUser?: number;
    runAsGroup?: number;
    readOnlyRootFilesystem?: boolean;
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
  };
}

export interface VolumeManifest {
  name: string;
  hostPath?: { path: string; type?: string };
  emptyDir?: { medium?: '' | 'Memory' };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
}

export interface PodManifest {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: ContainerManifest[];
    initContainers?: ContainerManifest[];
    restartPolicy?: 'Always' | 'OnFailure' | 'Never';
    terminationGracePeriodSeconds?: number;
    hostNetwork?: boolean;
    hostname?: string;
    volumes?: VolumeManifest[];
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
  spec: { ref: string; platform?: string; pullPolicy?: 'Always' | 'IfNotPresent' | 'Never' };
}

export type ManifestDoc = PodManifest | ImageManifestDoc;

/** A document and where it came from. */
export interface LoadedDoc {
  doc: ManifestDoc;
  file: string;
  line: number;
}
