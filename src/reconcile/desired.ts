// Manifests → desired state: each pod's containers as runtime settings (Kubernetes semantics:
// `command` replaces the Entrypoint, `args` the Cmd; limits become cgroup limits; volumes become
// binds, named volumes or the pod's own directories (container-mounts.ts); env and config volumes take values from the
// folder's ConfigMaps and Secrets and the downward API: pod-env.ts, pod-values.ts), with defaults
// applied. Pure: the host paths and facts it needs are passed in. Values go through the converters
// the loader checked them with (manifest/convert.ts); should one still throw, that pod or Image is
// left out with a diagnostic of its file (`unusable`) and every other one is built: one manifest
// never stops a pass.

import { join } from 'node:path';
import { namedPortsOf } from '../health/named-ports.js';
import {
  type ContainerProbes,
  containerProbes,
  type LifecycleHooks,
  lifecycleHooks,
  type RawContainerHealth,
} from '../health/probe-spec.js';
import { isBerthError } from '../lib/errors.js';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { cpuLimitOf, memoryLimitOf, normalizeImage, runtimeNameOf } from '../manifest/convert.js';
import { type ActiveDeadline, activeDeadlineOf } from '../manifest/deadline.js';
import { type DependencyCondition, dependencyEntries } from '../manifest/dependencies.js';
import { dependencyIdentity, hostnameOfPodName, podIdentity } from '../manifest/identity.js';
import type { LoadedDoc, PodManifest } from '../manifest/kinds.js';
import { buildObjectStore, type ObjectStore } from '../manifest/objects/store.js';
import { podCgroupResourcesOf, withPodDefaults } from '../manifest/pod-resources.js';
import { cpuSharesOf, memoryReservationOf, sizeLimitOf } from '../manifest/requests.js';
import type { DnsSettings } from '../network/names.js';
import { type PodNetwork, podAliasesOf, podDnsOf, podNetworkOf } from '../network/pod-network.js';
import { podCgroupName } from '../runtime/cgroups.js';
import { DEFAULT_FIRST_ID, DEFAULT_RANGES, type IdPool } from '../runtime/id-range.js';
import type { RestartPolicy, RestartRule } from '../runtime/restart.js';
import type { ContainerSettings } from '../runtime/spec.js';
import {
  defaultPullPolicy,
  mountsFor,
  type PullPolicy,
  type VolumeImage,
  volumeImagesOf,
} from './container-mounts.js';
import { rememberedPod } from './desired-memo.js';
import { type NodeFacts, UNKNOWN_NODE } from './downward.js';
import { checkExecHandlers } from './exec-bound.js';
import type { TypedHostPath } from './host-path-types.js';
import { containerEnv, type PodContext } from './pod-env.js';
import { type ConfigVolume, type PodDir, podValues } from './pod-values.js';
import { withProbeCommandsExpanded } from './probe-command.js';
import { securitySettings } from './security-settings.js';
import type { VolumeFile } from './volume-files.js';

export type { PullPolicy } from './container-mounts.js';

export interface DesiredContainer {
  pod: string;
  /** The name in the pod. */
  name: string;
  /** The runtime's name: `<pod>_<container>`. */
  runtimeName: string;
  image: string;
  pullPolicy: PullPolicy;
  init: boolean;
  /** An init container with restartPolicy Always: started in order before the app containers, kept running, stopped after them. */
  sidecar?: true;
  /** Its own restartPolicy (not a sidecar's), over the pod's (Kubernetes 1.34 ContainerRestartRules). */
  restartPolicy?: RestartPolicy;
  /** Its restartPolicyRules, tried before its restartPolicy on each exit. */
  restartRules?: RestartRule[];
  settings: ContainerSettings;
  /** Values taken from ConfigMaps and Secrets: label → digest (pod-env.ts). */
  sources?: Record<string, string>;
  /** Env names holding exactly a source's value, with its label. */
  sourced?: Record<string, string>;
  /**
   * Why it cannot be made though its file loaded (the kubelet's CreateContainerConfigError: an env
   * resourceFieldRef to no container of the pod): its run fails with ERR_CONTAINER_CONFIG, the rest of the pod runs.
   */
  refused?: string;
  /** Its liveness, readiness and startup probes (src/health). */
  probes?: ContainerProbes;
  /** Its postStart and preStop hooks (src/health). */
  lifecycle?: LifecycleHooks;
  /** Its named ports, for probes that name theirs. */
  namedPorts?: Record<string, number>;
  /** Images its image volumes mount: pulled like its own image, and waited for. */
  volumeImages?: VolumeImage[];
}

export interface DesiredPod {
  name: string;
  file: string;
  restartPolicy: RestartPolicy;
  graceSeconds: number;
  hostNetwork: boolean;
  /** The pods it waits for at every start (`berth.dev/depends-on`), by identity, and for what. */
  dependsOn: Array<{ pod: string; condition: DependencyCondition }>;
  initContainers: DesiredContainer[];
  containers: DesiredContainer[];
  /** Directories the pod owns (emptyDir and config volumes); `memory` ones are tmpfs. */
  podDirs: PodDir[];
  /** configMap, secret, downwardAPI and projected volumes: their content's stamp (files in DesiredState). */
  configVolumes?: ConfigVolume[];
  /** ConfigMaps, Secrets or keys it refers to that are missing: it waits for them. */
  waitingFor?: string[];
  /** hostPath volumes with a type: made (…OrCreate) or checked before each container's create (host-path-types.ts). */
  hostPaths: TypedHostPath[];
  netnsPath?: string;
  /** shareProcessNamespace: the record of its PID namespace holder (runtime/pid-holder.ts). */
  pidHolder?: string;
  /** On the bridge network: its published ports, names and hosts file (none: loopback or host). */
  network?: PodNetwork;
  /** `<root>/pods/<name>`: its record and emptyDirs. */
  home: string;
  /** spec.activeDeadlineSeconds, and the manifest's digest its start is recorded for. */
  activeDeadline?: ActiveDeadline;
  /** hostUsers: false: the pool its ID range is taken from (runtime/id-range.ts). */
  userns?: IdPool;
}

export interface DesiredImage {
  name: string;
  image: string;
  platform?: string;
  pullPolicy: PullPolicy;
  /** file:/// archive the image is imported from (air-gapped nodes). */
  source?: string;
  file: string;
}

export interface DesiredState {
  pods: DesiredPod[];
  images: DesiredImage[];
  /** Each config volume's files, by its host path (kept out of the pods: secrets never in a hash or JSON). */
  volumeFiles?: Map<string, VolumeFile[]>;
  /** Each pod's `imagePullSecrets`: docker config.json texts, for the pulls of its images only. */
  pullAuth?: Map<string, string[]>;
  /** Pods and Images that could not be built, each with a diagnostic of its file: kept as they run. */
  unusable?: Array<{ kind: 'Pod' | 'Image'; name: string; diagnostic: Diagnostic }>;
}

export interface HostLayout {
  /** `<root>/volumes`: named volumes (persistentVolumeClaim). */
  volumes: string;
  /** `<root>/pods`: each pod's own directories. */
  pods: string;
  /** `<state>/netns`: each pod's network namespace is `pod-<name>` there. */
  netns: string;
  /** The host as the downward API shows it. */
  node?: NodeFacts;
  /** `<state>/network/<name>/attachments`: where pods' addresses are recorded (network/attachments.ts). */
  attachments?: string;
  /** `<state>/health.json`: what the daemon's prober found (health/health-file.ts). */
  health?: string;
  /** The host-wide port claims (`dir`: network/host-ports.ts) and this root's --state among them. */
  hostPorts?: { dir: string; state: string };
  /** Host IDs for hostUsers: false pods (host config userNamespaces; default in id-range.ts). */
  idPool?: IdPool;
}

function containerOf(
  pod: PodManifest,
  c: PodManifest['spec']['containers'][0],
  init: boolean,
  host: HostLayout,
  ctx: PodContext & { missing: string[] },
): DesiredContainer {
  const values = containerEnv(c, ctx);
  const health = withProbeCommandsExpanded(c as RawContainerHealth & { name: string; env?: typeof c.env });
  checkExecHandlers(health, values.env);
  ctx.missing.push(...values.missing);
  const sc = c.securityContext ?? {};
  const security = securitySettings(pod, c);
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  const shares = requests.cpu === undefined ? undefined : cpuSharesOf(requests.cpu);
  const reservation = requests.memory === undefined ? undefined : memoryReservationOf(requests.memory);
  const own = {
    ...(limits.memory !== undefined ? { memoryBytes: memoryLimitOf(limits.memory) } : {}),
    ...(limits.cpu !== undefined ? { milliCpus: cpuLimitOf(limits.cpu) } : {}),
    ...(shares !== undefined ? { cpuShares: shares } : {}),
    ...(reservation !== undefined ? { memoryReservationBytes: reservation } : {}),
  };
  const id = podIdentity(pod.metadata);
  const podResources = podCgroupResourcesOf(pod);
  const resources = podResources ? withPodDefaults(own, podResources) : own;
  const runtimeName = runtimeNameOf(id, c.name);
  const hostNetwork = pod.spec.hostNetwork === true;
  const network = podNetworkOf(pod, join(host.pods, id));
  const settings: ContainerSettings = {
    name: runtimeName,
    hostname: pod.spec.hostnameOverride ?? pod.spec.hostname ?? hostnameOfPodName(pod.metadata.name),
    ...(values.entrypoint ? { entrypoint: values.entrypoint } : {}),
    ...(values.command ? { command: values.command } : {}),
    env: values.env,
    ...(c.tty === true ? { tty: true } : {}),
    ...(c.lifecycle?.stopSignal ? { stopSignal: c.lifecycle.stopSignal } : {}),
    ...(c.workingDir ? { workdir: c.workingDir } : {}),
    ...security,
    ...(c.terminationMessagePath ? { terminationMessagePath: c.terminationMessagePath } : {}),
    readOnly: sc.readOnlyRootFilesystem === true,
    privileged: sc.privileged === true,
    ...(sc.allowPrivilegeEscalation === true ? { allowPrivilegeEscalation: true } : {}),
    capAdd: sc.capabilities?.add ?? [],
    capDrop: sc.capabilities?.drop ?? [],
    network: hostNetwork ? 'host' : 'none',
    ...(hostNetwork ? {} : { netnsPath: join(host.netns, `pod-${id}`) }),
    ...(pod.spec.shareProcessNamespace === true ? { pidnsHolder: pidHolderOf(host, id) } : {}),
    ...(network ? { hostsFile: network.hostsFile, dns: network.dns satisfies DnsSettings } : offBridge(pod)),
    // Its env still waiting for an object (the pod waits, this container is not made): a $(VAR) from it is not refused.
    mounts: mountsFor(pod, c, host, values.env, values.missing.length > 0),
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
    ...(podResources
      ? { podCgroup: { name: podCgroupName(join(host.pods, id)), resources: podResources } }
      : {}),
    ...(pod.spec.hostUsers === false ? { userns: join(host.pods, id) } : {}),
  };
  return {
    pod: id,
    name: c.name,
    runtimeName,
    image: normalizeImage(c.image),
    pullPolicy: c.imagePullPolicy ?? defaultPullPolicy(c.image),
    init,
    ...(init && c.restartPolicy === 'Always' ? { sidecar: true as const } : {}),
    ...(c.restartPolicy && !(init && c.restartPolicy === 'Always') ? { restartPolicy: c.restartPolicy } : {}),
    ...optional('restartRules', restartRulesOf(c)),
    settings,
    ...(Object.keys(values.sources).length > 0 ? { sources: values.sources, sourced: values.sourced } : {}),
    ...optional('refused', values.refused),
    ...optional('probes', containerProbes(health)),
    ...optional('lifecycle', lifecycleHooks(c as RawContainerHealth)),
    ...optional('namedPorts', namedPortsOf(c)),
    ...optional('volumeImages', volumeImagesOf(pod, c)),
  };
}

const restartRulesOf = (c: PodManifest['spec']['containers'][0]): RestartRule[] | undefined =>
  c.restartPolicyRules?.length
    ? c.restartPolicyRules.map((r) => ({ operator: r.exitCodes.operator, values: r.exitCodes.values ?? [] }))
    : undefined;

/** The restart policy container `c` of `pod` exits under: a sidecar's Always, its own, or the pod's. */
export const restartPolicyOf = (pod: DesiredPod, c: DesiredContainer): RestartPolicy =>
  c.sidecar ? 'Always' : (c.restartPolicy ?? pod.restartPolicy);

/** Where a pod's PID namespace holder is recorded: with its sandbox, in its home. */
export const pidHolderOf = (host: HostLayout, id: string) => join(host.pods, id, 'pidns.json');

const optional = <K extends string, V>(k: K, v: V | undefined) =>
  (v === undefined ? {} : { [k]: v }) as Partial<Record<K, V>>;

export function desiredPod(
  pod: PodManifest,
  file: string,
  host: HostLayout,
  refs: {
    /** The folder's ConfigMaps and Secrets. */
    objects?: ObjectStore;
    /** Filled with its config volumes' files, by path. */
    files?: Map<string, VolumeFile[]>;
    /** Filled with its imagePullSecrets' docker configs. */
    pullAuth?: Map<string, string[]>;
  } = {},
): DesiredPod {
  const { objects = buildObjectStore([]), files, pullAuth } = refs;
  const hostNetwork = pod.spec.hostNetwork === true;
  const volumes = pod.spec.volumes ?? [];
  const id = podIdentity(pod.metadata);
  const fsGroup = pod.spec.securityContext?.fsGroup;
  const ctx = { pod, objects, node: host.node ?? UNKNOWN_NODE, missing: [] as string[] };
  const initContainers = (pod.spec.initContainers ?? []).map((c) => containerOf(pod, c, true, host, ctx));
  const containers = pod.spec.containers.map((c) => containerOf(pod, c, false, host, ctx));
  const values = podValues(ctx, join(host.pods, id, 'volumes'), files, pullAuth);
  return {
    name: id,
    file,
    restartPolicy: pod.spec.restartPolicy ?? 'Always',
    graceSeconds: graceOf(pod.spec.terminationGracePeriodSeconds),
    hostNetwork,
    dependsOn: dependencyEntries(pod.metadata.annotations).map((d) => ({
      pod: dependencyIdentity(pod.metadata, d.pod),
      condition: d.condition ?? 'ready',
    })),
    initContainers,
    containers,
    podDirs: [
      ...volumes
        .filter((v) => v.emptyDir)
        .map((v) => ({
          path: join(host.pods, id, 'volumes', v.name),
          memory: v.emptyDir?.medium === 'Memory',
          // fsGroup's bits win over emptyDir.mode, as the kubelet applies them: the group may read,
          // write and enter (setgid is added where the directory is made).
          ...(v.emptyDir?.mode !== undefined
            ? { mode: v.emptyDir.mode | (fsGroup !== undefined ? 0o770 : 0) }
            : {}),
          ...(fsGroup !== undefined ? { fsGroup } : {}),
          ...(v.emptyDir?.medium === 'Memory' && v.emptyDir.sizeLimit !== undefined
            ? { sizeBytes: sizeLimitOf(v.emptyDir.sizeLimit) }
            : {}),
        })),
      ...values.podDirs,
    ],
    ...values.extra,
    hostPaths: volumes.flatMap((v) =>
      v.hostPath ? [{ path: v.hostPath.path, type: v.hostPath.type ?? '' }] : [],
    ),
    ...(hostNetwork ? {} : { netnsPath: join(host.netns, `pod-${id}`) }),
    ...(pod.spec.shareProcessNamespace === true ? { pidHolder: pidHolderOf(host, id) } : {}),
    ...optional('network', podNetworkOf(pod, join(host.pods, id))),
    home: join(host.pods, id),
    ...optional('activeDeadline', activeDeadlineOf(pod)),
    ...(pod.spec.hostUsers === false
      ? { userns: host.idPool ?? { firstId: DEFAULT_FIRST_ID, ranges: DEFAULT_RANGES } }
      : {}),
  };
}

/** A pod's grace period: 30 s unless given; a negative one is 1 s, as a cluster makes it. */
function graceOf(seconds: number | undefined): number {
  if (seconds === undefined) return 30;
  return seconds < 0 ? 1 : seconds;
}

export function desiredState(docs: LoadedDoc[], host: HostLayout): DesiredState {
  const pods: DesiredPod[] = [];
  const images: DesiredImage[] = [];
  const unusable: NonNullable<DesiredState['unusable']> = [];
  const objects = buildObjectStore(docs.map((d) => d.doc));
  const volumeFiles = new Map<string, VolumeFile[]>();
  const pullAuth = new Map<string, string[]>();
  for (const { doc, file, line } of docs) {
    try {
      if (doc.kind === 'Pod')
        pods.push(
          rememberedPod(doc, { file, host, objects }, { files: volumeFiles, pullAuth }, (files, auth) =>
            desiredPod(doc, file, host, { objects, files, pullAuth: auth }),
          ),
        );
      else if (doc.kind === 'Image') {
        images.push({
          name: doc.metadata.name,
          image: normalizeImage(doc.spec.ref),
          ...(doc.spec.platform ? { platform: doc.spec.platform } : {}),
          pullPolicy: doc.spec.pullPolicy ?? 'IfNotPresent',
          ...(doc.spec.source ? { source: doc.spec.source } : {}),
          file,
        });
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      unusable.push({
        kind: doc.kind === 'Pod' ? 'Pod' : 'Image',
        name: doc.kind === 'Pod' ? podIdentity(doc.metadata) : doc.metadata.name,
        diagnostic: {
          file,
          line,
          col: 1,
          code: isBerthError(err) ? err.code : 'ERR_MANIFEST_INVALID',
          message: `${doc.kind} ${doc.metadata.name} cannot be used: ${message}`,
        },
      });
    }
  }
  return {
    pods: pods.sort((a, b) => a.name.localeCompare(b.name)),
    images,
    ...(volumeFiles.size > 0 ? { volumeFiles } : {}),
    ...(pullAuth.size > 0 ? { pullAuth } : {}),
    ...(unusable.length > 0 ? { unusable } : {}),
  };
}

/**
 * A pod off the bridge network (hostNetwork, `berth.dev/network: none`): its hostAliases in the hosts
 * file berth writes, and its DNS settings when it gives any (the kubelet honours both there too).
 */
function offBridge(pod: PodManifest): Pick<ContainerSettings, 'dns' | 'hostAliases'> {
  const aliases = podAliasesOf(pod);
  return {
    ...(aliases.length > 0 ? { hostAliases: aliases } : {}),
    ...(pod.spec.dnsPolicy === 'None' || pod.spec.dnsConfig ? { dns: podDnsOf(pod) } : {}),
  };
}
