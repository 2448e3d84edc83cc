// Kubernetes Pod fields berth knows but does not implement: using one is an error that says so
// ("field spec.affinity is not supported by berth"), never a silent drop or a bare "unknown field".
// Paths use `*` for array indices. Pure data.

const POD = [
  'metadata.namespace',
  'metadata.generateName',
  'metadata.uid',
  'metadata.ownerReferences',
  'metadata.finalizers',
  'metadata.creationTimestamp',
  'metadata.resourceVersion',
  'spec.affinity',
  'spec.nodeSelector',
  'spec.nodeName',
  'spec.tolerations',
  'spec.schedulerName',
  'spec.priority',
  'spec.priorityClassName',
  'spec.preemptionPolicy',
  'spec.topologySpreadConstraints',
  'spec.serviceAccount',
  'spec.serviceAccountName',
  'spec.automountServiceAccountToken',
  'spec.imagePullSecrets',
  'spec.hostPID',
  'spec.hostIPC',
  'spec.hostUsers',
  'spec.shareProcessNamespace',
  'spec.securityContext',
  'spec.runtimeClassName',
  'spec.readinessGates',
  'spec.activeDeadlineSeconds',
  'spec.enableServiceLinks',
  'spec.ephemeralContainers',
  'spec.overhead',
  'spec.os',
  'spec.subdomain',
  'spec.setHostnameAsFQDN',
  'spec.resourceClaims',
  'spec.schedulingGates',
];

const CONTAINER = [
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
  'envFrom',
  'stdin',
  'stdinOnce',
  'tty',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'volumeDevices',
  'resizePolicy',
  'restartPolicy',
  'env.*.valueFrom',
  'securityContext.seLinuxOptions',
  'securityContext.seccompProfile',
  'securityContext.appArmorProfile',
  'securityContext.windowsOptions',
  'securityContext.procMount',
  'securityContext.runAsNonRoot',
  'resources.claims',
];

const VOLUME = [
  'configMap',
  'secret',
  'nfs',
  'projected',
  'downwardAPI',
  'csi',
  'ephemeral',
  'iscsi',
  'local',
  'image',
  'emptyDir.sizeLimit', // not enforced: an error rather than a limit that silently is not one
];

const PATTERNS = [
  ...POD,
  ...CONTAINER.flatMap((f) => [`spec.containers.*.${f}`, `spec.initContainers.*.${f}`]),
  ...VOLUME.map((f) => `spec.volumes.*.${f}`),
].map((p) => new RegExp(`^${p.replace(/\./g, '\\.').replace(/\*/g, '[0-9]+')}$`));

export function unsupportedField(path: string): { code: string; message: string } | undefined {
  if (!PATTERNS.some((re) => re.test(path))) return undefined;
  return { code: 'ERR_MANIFEST_UNSUPPORTED', message: `field ${path} is not supported by berth` };
}
