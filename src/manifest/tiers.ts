// Every field of a Kubernetes v1 Pod, in one of three tiers, decided here once:
// - honoured: berth does what Kubernetes does with it (the schema in schemas/pod.schema.json checks
//   its value);
// - warned: accepted and ignored with a WARN_MANIFEST_IGNORED diagnostic at the field, because it
//   only means something to a scheduler or a cluster API (a file written for a cluster still runs);
//   one whose Kubernetes shape schemas/pod.schema.json holds is checked against it first;
// - refused: one ERR_MANIFEST_UNSUPPORTED error naming the field and why the host cannot honour it.
// Paths: `spec.…` and `metadata.…` are the pod's; `container.…` applies to every entry of
// spec.containers and spec.initContainers; `volume.…` to every entry of spec.volumes; `*` is an index.
// A test checks that every field of the official strict Pod schema has exactly one entry here, and
// the README's table is this table. Pure data.

export type Tier = 'honoured' | 'warned' | 'refused';

export interface FieldTier {
  tier: Tier;
  /** Why (warned, refused), or who honours it (honoured), in words for people. */
  why: string;
  /**
   * A list a cluster checks by its length: given empty (`[]`, as charts render unset lists) it asks
   * for nothing, so a refused one is taken as not given. Only list fields: `[]` for an object or a
   * string field is a value a cluster cannot decode, refused as any other.
   */
  list?: true;
}

const SCHEDULER = 'only a scheduler uses it: berth runs every pod on this host';
const CLUSTER = "set by a cluster's API server: it means nothing in a file";
const ACCOUNT = 'there is no cluster API for a service account to talk to';
const ATTACH =
  "a network or cloud volume needs a cluster's attach machinery: mount it on the host and use hostPath";
const PROBES = 'run by the daemon (berth daemon), not by berth apply';
const NETWORKING = 'honoured by pod networking';
const CONFIG = 'honoured with ConfigMap, Secret and downward API support';
const CONFIG_OWNER = "not yet: a config volume's files are owned by the pod's root";
const HTTP_PROTOCOL =
  'HTTP1, the default; HTTP2 (h2c, Kubernetes 1.37 alpha H2CContainerProbe) is refused: not yet';
const GRPC_MODE =
  'Plaintext, the default; TLS (Kubernetes 1.37 alpha GRPCContainerProbeTLS) is refused: not yet';
const SECCOMP = 'RuntimeDefault (the host default), Unconfined, Localhost: a profile in <root>/seccomp/';

const honoured = (why = 'honoured'): FieldTier => ({ tier: 'honoured', why });
const warned = (why: string): FieldTier => ({ tier: 'warned', why });
const refused = (why: string): FieldTier => ({ tier: 'refused', why });
const refusedList = (why: string): FieldTier => ({ tier: 'refused', why, list: true });

export const POD_FIELD_TIERS: Readonly<Record<string, FieldTier>> = {
  apiVersion: honoured(),
  kind: honoured(),
  status: warned('a pod status is written by a cluster, never read from a file'),
  'metadata.name': honoured(),
  'metadata.namespace': honoured('identity is namespace + name; default `default`'),
  'metadata.labels': honoured(),
  'metadata.annotations': honoured(),
  'metadata.creationTimestamp': warned(CLUSTER),
  'metadata.deletionTimestamp': warned(CLUSTER),
  'metadata.deletionGracePeriodSeconds': warned(CLUSTER),
  'metadata.finalizers': warned(CLUSTER),
  'metadata.generation': warned(CLUSTER),
  'metadata.managedFields': warned(CLUSTER),
  'metadata.ownerReferences': warned(CLUSTER),
  'metadata.resourceVersion': warned(CLUSTER),
  'metadata.selfLink': warned(CLUSTER),
  'metadata.uid': warned(CLUSTER),
  'metadata.generateName': warned('berth needs a fixed metadata.name to know a pod again'),

  'spec.containers': honoured(),
  'spec.initContainers': honoured(),
  'spec.volumes': honoured(),
  'spec.restartPolicy': honoured(),
  'spec.terminationGracePeriodSeconds': honoured(),
  'spec.hostNetwork': honoured(),
  'spec.hostname': honoured(),
  'spec.hostnameOverride': honoured(
    "the pod's hostname, over hostname (a DNS subdomain of at most 64 characters; no DNS record); not with hostNetwork",
  ),
  'spec.imagePullSecrets': honoured(CONFIG),
  'spec.dnsPolicy': honoured(NETWORKING),
  'spec.dnsConfig': honoured(NETWORKING),
  'spec.hostAliases': honoured(NETWORKING),
  'spec.securityContext': honoured(),
  'spec.hostPID': honoured(),
  'spec.hostIPC': honoured(),
  'spec.shareProcessNamespace': honoured(
    'one PID namespace for the pod, PID 1 a reaping holder (catatonit) that lives with the sandbox',
  ),
  'spec.hostUsers': honoured(
    'false: a user namespace with 65536 host IDs of its own (shifted copies of the image, emptyDirs owned by its root); refused with hostNetwork/hostPID/hostIPC or where the host has no user namespaces',
  ),
  'spec.activeDeadlineSeconds': honoured(
    'counted from the first start (kept across restarts of berth; within one boot on the boot clock, so NTP moving the wall clock by years neither ends nor stretches it): then its containers stop, the pod is Failed (DeadlineExceeded) until its manifest changes',
  ),
  'spec.affinity': warned(SCHEDULER),
  'spec.nodeSelector': warned(SCHEDULER),
  'spec.nodeName': warned(SCHEDULER),
  'spec.tolerations': warned(SCHEDULER),
  'spec.schedulerName': warned(SCHEDULER),
  'spec.schedulingGates': warned(SCHEDULER),
  'spec.priority': warned(SCHEDULER),
  'spec.priorityClassName': warned(SCHEDULER),
  'spec.preemptionPolicy': warned(SCHEDULER),
  'spec.topologySpreadConstraints': warned(SCHEDULER),
  'spec.overhead': warned(SCHEDULER),
  'spec.schedulingGroup': warned(`${SCHEDULER} (Kubernetes 1.36 GenericWorkload: its PodGroup)`),
  'spec.workloadRef': warned(
    `${SCHEDULER} (Kubernetes 1.35 GenericWorkload: its Workload; schedulingGroup from 1.36)`,
  ),
  'spec.evictionResponders': warned(
    "only a cluster's eviction requests read it (Kubernetes 1.37 EvictionRequestAPI): berth evicts nothing",
  ),
  'spec.os': honoured(
    'linux; windows is refused (berth runs Linux containers), and so is a Windows path as a mountPath or hostPath path (C:/x is not absolute on Linux); lifecycle.stopSignal needs it',
  ),
  'spec.readinessGates': warned('only a cluster reads readiness gates (for Services and rollouts)'),
  // Kept for the downward API's fieldRef spec.serviceAccountName, as a cluster gives it; no account exists.
  'spec.serviceAccountName': honoured(
    'read by the downward API only: there is no cluster API for an account',
  ),
  'spec.serviceAccount': warned(ACCOUNT),
  'spec.automountServiceAccountToken': warned(ACCOUNT),
  'spec.enableServiceLinks': warned('there are no Services to link into the environment'),
  'spec.subdomain': warned("only a cluster's DNS serves pod subdomains"),
  'spec.setHostnameAsFQDN': warned("only a cluster's DNS gives a pod a fully qualified name"),
  'spec.runtimeClassName': refused(
    'berth has one runtime (runc): running the pod without the sandbox it asks for would be unsafe',
  ),
  'spec.ephemeralContainers': refusedList(
    'ephemeral containers are added through a cluster API, never in a file',
  ),
  'spec.resourceClaims': refusedList('dynamic resource allocation needs a cluster'),
  'spec.resources': honoured(
    "cpu and memory (Kubernetes 1.34 pod-level resources): a pod cgroup parents its containers, holding the pod's cpu quota and shares and its memory limit; a container without a limit of its own gets the pod's; hugepages-<size> ignored with a warning; pids (Kubernetes 1.37 alpha PerPodPIDLimit, off by default: a cluster refuses it then too) refused: not yet",
  ),
  'spec.resources.claims': refusedList('dynamic resource allocation needs a cluster'),

  'spec.securityContext.runAsUser': honoured(),
  'spec.securityContext.runAsGroup': honoured(),
  'spec.securityContext.runAsNonRoot': honoured(),
  'spec.securityContext.fsGroup': honoured(
    'group of every volume but hostPath (emptyDir, config volumes, berth volumes: recursively, no symlink followed, hard-linked files skipped), setgid, and of every container',
  ),
  'spec.securityContext.fsGroupChangePolicy': honoured(
    'Always (default): a berth volume is walked at each container create; OnRootMismatch: not when its root already matches',
  ),
  'spec.securityContext.supplementalGroups': honoured(),
  'spec.securityContext.supplementalGroupsPolicy': warned(
    'the image groups are always merged, as by default',
  ),
  'spec.securityContext.sysctls': honoured(
    'namespaced ones only; net.* not with hostNetwork, IPC ones not with hostIPC',
  ),
  'spec.securityContext.seccompProfile': honoured(SECCOMP),
  'spec.securityContext.seLinuxOptions': warned('berth does not label containers for SELinux'),
  'spec.securityContext.seLinuxChangePolicy': warned('berth does not label containers for SELinux'),
  'spec.securityContext.appArmorProfile': warned('berth does not load AppArmor profiles'),
  'spec.securityContext.windowsOptions': warned('only meaningful on Windows nodes'),

  'container.name': honoured(),
  'container.image': honoured(),
  'container.imagePullPolicy': honoured(),
  'container.command': honoured(),
  'container.args': honoured(),
  'container.workingDir': honoured(),
  'container.env': honoured(),
  'container.env.*.valueFrom': honoured(CONFIG),
  'container.env.*.valueFrom.fileKeyRef': refused(
    'berth does not read variables from a file in a volume: set them in env, or read the file in the command',
  ),
  'container.envFrom': honoured(CONFIG),
  'container.ports': honoured('containerPort is informational, as in Kubernetes'),
  'container.ports.*.hostPort': honoured(NETWORKING),
  'container.ports.*.hostIP': honoured(NETWORKING),
  'container.resources': honoured(),
  'container.resources.claims': refusedList('dynamic resource allocation needs a cluster'),
  'container.volumeMounts': honoured(),
  'container.volumeMounts.*.mountPropagation': honoured(
    'HostToContainer (rslave) and Bidirectional (rshared, privileged only); the host path must be on a shared mount',
  ),
  'container.volumeMounts.*.recursiveReadOnly': honoured(
    'Enabled and IfPossible make the mounts under a readOnly mount read-only too (runc rro, Linux 5.12+)',
  ),
  'container.volumeMounts.*.bindMountOptions': refused(
    'not yet: running the container without the mount options it asks for would be less safe',
  ),
  'container.volumeMounts.*.subPathExpr': honoured(
    "expanded from the container's environment, then confined to the volume as a subPath is",
  ),
  'container.securityContext': honoured(),
  'container.securityContext.runAsUser': honoured(),
  'container.securityContext.runAsGroup': honoured(),
  'container.securityContext.runAsNonRoot': honoured(),
  'container.securityContext.readOnlyRootFilesystem': honoured(),
  'container.securityContext.privileged': honoured(),
  'container.securityContext.allowPrivilegeEscalation': honoured(),
  'container.securityContext.capabilities': honoured(),
  'container.securityContext.seccompProfile': honoured(SECCOMP),
  'container.securityContext.procMount': honoured(
    'Default; Unmasked (no masked or read-only /proc paths) only with hostUsers: false, else refused',
  ),
  'container.securityContext.cgroupOptions': honoured(
    "mountMode ReadOnly, as berth always mounts a container's cgroup file system; ReadWrite is refused (not yet)",
  ),
  'container.securityContext.seLinuxOptions': warned('berth does not label containers for SELinux'),
  'container.securityContext.appArmorProfile': warned('berth does not load AppArmor profiles'),
  'container.securityContext.windowsOptions': warned('only meaningful on Windows nodes'),
  'container.livenessProbe': honoured(PROBES),
  'container.readinessProbe': honoured(PROBES),
  'container.startupProbe': honoured(PROBES),
  'container.lifecycle': honoured('postStart and preStop: exec, httpGet, tcpSocket, sleep'),
  ...Object.fromEntries(
    [
      'livenessProbe.httpGet',
      'readinessProbe.httpGet',
      'startupProbe.httpGet',
      'lifecycle.postStart.httpGet',
      'lifecycle.preStop.httpGet',
    ].map((f) => [`container.${f}.protocol`, honoured(HTTP_PROTOCOL)]),
  ),
  ...Object.fromEntries(
    ['livenessProbe', 'readinessProbe', 'startupProbe'].map((f) => [
      `container.${f}.grpc.mode`,
      honoured(GRPC_MODE),
    ]),
  ),
  'container.lifecycle.stopSignal': honoured(
    "the signal that stops the container, over the image's StopSignal (Kubernetes 1.33): a Linux name as Kubernetes spells it; needs spec.os.name",
  ),
  'container.stdin': warned('berth does not attach to containers: stdin stays closed'),
  'container.stdinOnce': warned('berth does not attach to containers: stdin stays closed'),
  'container.tty': honoured('a terminal from conmon: the process sees a tty, its output goes to the log'),
  'container.terminationMessagePath': honoured(
    'when set: the file, up to 4 KiB, is the termination message in ps',
  ),
  'container.terminationMessagePolicy': warned('only the file at terminationMessagePath is read'),
  'container.restartPolicy': honoured(
    "Always on an init container: a native sidecar; else over the pod's restartPolicy for that container (Kubernetes 1.34)",
  ),
  'container.restartPolicyRules': honoured(
    'action Restart on exitCodes In or NotIn, tried in order before the restartPolicy (needs it set), as Kubernetes 1.34',
  ),
  'container.resizePolicy': warned('resizing in place is a cluster API operation'),
  'container.volumeDevices': refusedList('raw block devices from claims need a cluster'),

  'volume.name': honoured(),
  'volume.hostPath': honoured(),
  'volume.emptyDir': honoured('also the default of a volume with no source, as in Kubernetes'),
  'volume.emptyDir.medium': honoured(
    "'' (a directory on disk) or Memory (a tmpfs); HugePages and HugePages-<size> refused: berth gives a pod no hugepages",
  ),
  'volume.emptyDir.sizeLimit': honoured(
    'the tmpfs size of a Memory emptyDir; on disk not enforced, with a warning',
  ),
  'volume.emptyDir.mode': honoured(
    "the volume directory's permission bits, 0 to 01777 (default 0777); with fsGroup also setgid",
  ),
  'volume.persistentVolumeClaim': honoured('names a berth volume'),
  'volume.configMap': honoured(CONFIG),
  'volume.configMap.defaultUser': refused(CONFIG_OWNER),
  'volume.configMap.items.*.user': refused(CONFIG_OWNER),
  'volume.secret': honoured(CONFIG),
  'volume.secret.defaultUser': refused(CONFIG_OWNER),
  'volume.secret.items.*.user': refused(CONFIG_OWNER),
  'volume.projected.defaultUser': refused(CONFIG_OWNER),
  'volume.projected.sources.*.configMap.items.*.user': refused(CONFIG_OWNER),
  'volume.projected.sources.*.secret.items.*.user': refused(CONFIG_OWNER),
  'volume.projected.sources.*.downwardAPI.items.*.user': refused(CONFIG_OWNER),
  'volume.downwardAPI.items.*.user': refused(CONFIG_OWNER),
  'volume.downwardAPI.defaultUser': refused(CONFIG_OWNER),
  'volume.downwardAPI': honoured(CONFIG),
  'volume.projected': honoured(CONFIG),
  // In every pod a cluster dumps (`kubectl get pod -o yaml`: its kube-api-access-* volume).
  'volume.projected.sources.*.serviceAccountToken': warned(
    `${ACCOUNT}: no token is issued, its file is not written`,
  ),
  'volume.projected.sources.*.podCertificate': warned(
    'only a cluster issues pod certificates: none is issued, its file is not written',
  ),
  'volume.projected.sources.*.clusterTrustBundle': warned(
    'only a cluster publishes ClusterTrustBundles: none is read, its file is not written (its name and signerName are checked as a cluster checks them)',
  ),
  'volume.ephemeral': refused('ephemeral volumes are provisioned by a cluster'),
  'volume.image': honoured("the image's files, read-only; pulled like a container's image"),
  'volume.gitRepo': refused('deprecated in Kubernetes: clone in an init container into an emptyDir'),
  ...Object.fromEntries(
    [
      'awsElasticBlockStore',
      'azureDisk',
      'azureFile',
      'cephfs',
      'cinder',
      'csi',
      'fc',
      'flexVolume',
      'flocker',
      'gcePersistentDisk',
      'glusterfs',
      'iscsi',
      'nfs',
      'photonPersistentDisk',
      'portworxVolume',
      'quobyte',
      'rbd',
      'scaleIO',
      'storageos',
      'vsphereVolume',
    ].map((f) => [`volume.${f}`, refused(ATTACH)]),
  ),
};

/** The volume sources berth knows (honoured ones): a volume with none of them is an emptyDir. */
export const VOLUME_SOURCES = Object.entries(POD_FIELD_TIERS)
  .filter(([k, t]) => k.startsWith('volume.') && k !== 'volume.name' && t.tier === 'honoured')
  .map(([k]) => k.slice('volume.'.length));

/** The concrete path patterns a table key stands for (`container.x` → both container lists). */
export function expandTierPath(key: string): string[][] {
  const [head, ...rest] = key.split('.');
  if (head === 'container')
    return [
      ['spec', 'containers', '*', ...rest],
      ['spec', 'initContainers', '*', ...rest],
    ];
  if (head === 'volume') return [['spec', 'volumes', '*', ...rest]];
  return [key.split('.')];
}
