// Manifests → desired state: each pod's containers as runtime settings (Kubernetes semantics:
// `command` replaces the Entrypoint, `args` the Cmd; limits become cgroup limits; volumes become
// binds, named volumes or the pod's own directories), with defaults applied. Pure: the host paths
// it needs are passed in.
import { join } from 'node:path';
import type { LoadedDoc, PodManifest } from '../manifest/kinds.js';
import { dependsOn } from '../manifest/load.js';
import { formatReference, parseReference } from '../oci/reference.js';
import { parseBytes, parseMilliCpus } from '../runtime/quantity.js';
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
}

export interface HostLayout {
  /** `<root>/volumes`: named volumes (persistentVolumeClaim). */
  volumes: string;
  /** `<root>/pods`: each pod's own directories. */
  pods: string;
  /** `<state>/netns`: each pod's network namespace is `pod-<name>` there. */
  netns: string;
}

export function normalizeImage(ref: string): string {
  return formatReference(parseReference(ref));
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
    ...(limits.memory !== undefined ? { memoryBytes: parseBytes(String(limits.memory)) } : {}),
    ...(limits.cpu !== undefined ? { milliCpus: parseMilliCpus(String(limits.cpu)) } : {}),
  };
  const runtimeName = `${pod.metadata.name}_${c.name}`;
  const hostNetwork = pod.spec.hostNetwork === true;
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
  };
}

export function desiredState(docs: LoadedDoc[], host: HostLayout): DesiredState {
  const pods: DesiredPod[] = [];
  const images: DesiredImage[] = [];
  for (const { doc, file } of docs) {
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
  }
  return { pods: pods.sort((a, b) => a.name.localeCompare(b.name)), images };
}
