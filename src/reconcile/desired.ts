// Manifests → desired state: each pod's containers as runtime settings (Kubernetes semantics:
// `command` replaces the Entrypoint, `args` the Cmd; limits become cgroup limits; volumes become
// binds, named volumes or the pod's own directories), with defaults applied. Pure: the host paths
// it needs are passed in. Values go through the converters the loader checked them with
// (manifest/convert.ts); should one still throw, that pod or Image is left out with a diagnostic of
// its file (`unusable`) and every other one is built: one manifest never stops a pass.
import { join } from 'node:path';
import { isBerthError } from '../lib/errors.js';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { cpuLimitOf, memoryLimitOf, normalizeImage, runtimeNameOf } from '../manifest/convert.js';
import { dependsOn } from '../manifest/dependencies.js';
import type { LoadedDoc, PodManifest } from '../manifest/kinds.js';
import type { DnsSettings } from '../network/names.js';
import { type PodNetwork, podNetworkOf } from '../network/pod-network.js';
import { parseReference } from '../oci/reference.js';
import type { RestartPolicy } from '../runtime/restart.js';
import type { ContainerMount, ContainerSettings } from '../runtime/spec.js';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface DesiredContainer {
  pod: string;
  /** The name in the pod. */
  name: string;
  /** The runtime's name: `<pod>_<container>`. */
  runtimeName: string;
  image: string;
  pullPolicy: PullPolicy;
  init: boolean;
  settings: ContainerSettings;
}

export interface DesiredPod {
  name: string;
  file: string;
  restartPolicy: RestartPolicy;
  graceSeconds: number;
  hostNetwork: boolean;
  dependsOn: string[];
  initContainers: DesiredContainer[];
  containers: DesiredContainer[];
  /** Directories the pod owns (emptyDir volumes); `memory` ones are tmpfs. */
  podDirs: Array<{ path: string; memory: boolean }>;
  /** Host paths to create first (hostPath type DirectoryOrCreate). */
  createDirs: string[];
  netnsPath?: string;
  /** On the bridge network: its published ports, names and hosts file (none: loopback or host). */
  network?: PodNetwork;
  /** `<root>/pods/<name>`: its record and emptyDirs. */
  home: string;
}

export interface DesiredImage {
  name: string;
  image: string;
  platform?: string;
  pullPolicy: PullPolicy;
  file: string;
}

export interface DesiredState {
  pods: DesiredPod[];
  images: DesiredImage[];
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
  /** `<state>/network/<name>/attachments`: where pods' addresses are recorded (network/attachments.ts). */
  attachments?: string;
}

/** Kubernetes' default: Always for `:latest` or no tag, IfNotPresent otherwise. */
function defaultPullPolicy(image: string): PullPolicy {
  const ref = parseReference(image);
  return !ref.digest && (ref.tag === undefined || ref.tag === 'latest') ? 'Always' : 'IfNotPresent';
}

function mountsFor(
  pod: PodManifest,
  c: PodManifest['spec']['containers'][0],
  host: HostLayout,
): ContainerMount[] {
  const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));
  return (c.volumeMounts ?? []).map((m): ContainerMount => {
    const v = volumes.get(m.name);
    // The volume's root and the subPath stay apart: the runtime resolves the subPath inside the
    // root when it creates the container, without following symlinks a container planted.
    const sub = m.subPath ? { subPath: m.subPath } : {};
    const readOnly = m.readOnly === true;
    if (v?.hostPath)
      return { kind: 'bind', source: v.hostPath.path, destination: m.mountPath, readOnly, ...sub };
    if (v?.persistentVolumeClaim) {
      return {
        kind: 'volume',
        source: join(host.volumes, v.persistentVolumeClaim.claimName),
        destination: m.mountPath,
        readOnly: readOnly || v.persistentVolumeClaim.readOnly === true,
        ...sub,
      };
    }
    return {
      kind: 'bind',
      source: join(host.pods, pod.metadata.name, 'volumes', m.name),
      destination: m.mountPath,
      readOnly,
      ...sub,
    };
  });
}

function containerOf(
  pod: PodManifest,
  c: PodManifest['spec']['containers'][0],
  init: boolean,
  host: HostLayout,
): DesiredContainer {
  const sc = c.securityContext ?? {};
  const limits = c.resources?.limits ?? {};
  const resources = {
    ...(limits.memory !== undefined ? { memoryBytes: memoryLimitOf(limits.memory) } : {}),
    ...(limits.cpu !== undefined ? { milliCpus: cpuLimitOf(limits.cpu) } : {}),
  };
  const runtimeName = runtimeNameOf(pod.metadata.name, c.name);
  const hostNetwork = pod.spec.hostNetwork === true;
  const network = podNetworkOf(pod, join(host.pods, pod.metadata.name));
  const settings: ContainerSettings = {
    name: runtimeName,
    hostname: pod.spec.hostname ?? pod.metadata.name,
    ...(c.command ? { entrypoint: c.command } : {}),
    ...(c.args ? { command: c.args } : {}),
    env: (c.env ?? []).map((e) => `${e.name}=${e.value ?? ''}`),
    ...(c.workingDir ? { workdir: c.workingDir } : {}),
    ...(sc.runAsUser !== undefined ? { user: String(sc.runAsUser) } : {}),
    ...(sc.runAsGroup !== undefined ? { gid: sc.runAsGroup } : {}),
    readOnly: sc.readOnlyRootFilesystem === true,
    privileged: sc.privileged === true,
    ...(sc.allowPrivilegeEscalation === true ? { allowPrivilegeEscalation: true } : {}),
    capAdd: sc.capabilities?.add ?? [],
    capDrop: sc.capabilities?.drop ?? [],
    network: hostNetwork ? 'host' : 'none',
    ...(hostNetwork ? {} : { netnsPath: join(host.netns, `pod-${pod.metadata.name}`) }),
    ...(network ? { hostsFile: network.hostsFile, dns: network.dns satisfies DnsSettings } : {}),
    mounts: mountsFor(pod, c, host),
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
  };
  return {
    pod: pod.metadata.name,
    name: c.name,
    runtimeName,
    image: normalizeImage(c.image),
    pullPolicy: c.imagePullPolicy ?? defaultPullPolicy(c.image),
    init,
    settings,
  };
}

const optional = <K extends string, V>(k: K, v: V | undefined) =>
  (v === undefined ? {} : { [k]: v }) as Partial<Record<K, V>>;

export function desiredPod(pod: PodManifest, file: string, host: HostLayout): DesiredPod {
  const hostNetwork = pod.spec.hostNetwork === true;
  const volumes = pod.spec.volumes ?? [];
  return {
    name: pod.metadata.name,
    file,
    restartPolicy: pod.spec.restartPolicy ?? 'Always',
    graceSeconds: pod.spec.terminationGracePeriodSeconds ?? 30,
    hostNetwork,
    dependsOn: dependsOn(pod.metadata.annotations),
    initContainers: (pod.spec.initContainers ?? []).map((c) => containerOf(pod, c, true, host)),
    containers: pod.spec.containers.map((c) => containerOf(pod, c, false, host)),
    podDirs: volumes
      .filter((v) => v.emptyDir)
      .map((v) => ({
        path: join(host.pods, pod.metadata.name, 'volumes', v.name),
        memory: v.emptyDir?.medium === 'Memory',
      })),
    createDirs: volumes
      .filter((v) => v.hostPath?.type === 'DirectoryOrCreate')
      .map((v) => v.hostPath?.path as string),
    ...(hostNetwork ? {} : { netnsPath: join(host.netns, `pod-${pod.metadata.name}`) }),
    ...optional('network', podNetworkOf(pod, join(host.pods, pod.metadata.name))),
    home: join(host.pods, pod.metadata.name),
  };
}

export function desiredState(docs: LoadedDoc[], host: HostLayout): DesiredState {
  const pods: DesiredPod[] = [];
  const images: DesiredImage[] = [];
  const unusable: NonNullable<DesiredState['unusable']> = [];
  for (const { doc, file, line } of docs) {
    try {
      if (doc.kind === 'Pod') pods.push(desiredPod(doc, file, host));
      else {
        images.push({
          name: doc.metadata.name,
          image: normalizeImage(doc.spec.ref),
          ...(doc.spec.platform ? { platform: doc.spec.platform } : {}),
          pullPolicy: doc.spec.pullPolicy ?? 'IfNotPresent',
          file,
        });
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      unusable.push({
        kind: doc.kind,
        name: doc.metadata.name,
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
    ...(unusable.length > 0 ? { unusable } : {}),
  };
}
