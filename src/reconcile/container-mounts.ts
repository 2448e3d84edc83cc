// A container's mounts as the runtime takes them, from its volumeMounts and the pod's volumes:
// hostPath and emptyDir binds, config volumes read-only (a subPath inside their current `..data`),
// berth volumes with the pod's fsGroup, image volumes by reference, each with its subPath (or
// subPathExpr expanded from the container's env), propagation and recursive read-only; and the
// images its image volumes need pulled. Pure: the host's directories are passed in.
import { join } from 'node:path';
import { normalizeImage } from '../manifest/convert.js';
import { podIdentity } from '../manifest/identity.js';
import type { PodManifest } from '../manifest/kinds.js';
import { parseReference } from '../oci/reference.js';
import type { ContainerMount } from '../runtime/spec.js';
import { expandSubPath, propagationOf, recursiveReadOnlyOf } from './mount-values.js';
import { isConfigVolume } from './volume-files.js';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** An image an image volume mounts, with the volume's pull policy. */
export interface VolumeImage {
  image: string;
  pullPolicy: PullPolicy;
}

type ContainerManifest = PodManifest['spec']['containers'][0];

/** Kubernetes' default: Always for `:latest` or no tag, IfNotPresent otherwise. */
export function defaultPullPolicy(image: string): PullPolicy {
  const ref = parseReference(image);
  return !ref.digest && (ref.tag === undefined || ref.tag === 'latest') ? 'Always' : 'IfNotPresent';
}

/** The pod's fsGroup as it applies to a berth volume (runtime/volume-ownership.ts). */
function volumeFsGroup(pod: PodManifest, readOnly: boolean): Pick<ContainerMount, 'fsGroup'> {
  const sc = pod.spec.securityContext;
  if (sc?.fsGroup === undefined) return {};
  const policy = sc.fsGroupChangePolicy === 'OnRootMismatch' ? 'OnRootMismatch' : 'Always';
  return { fsGroup: { gid: sc.fsGroup, policy, ...(readOnly ? { readOnly } : {}) } };
}

/** `host`: `<root>/pods` (each pod's own directories) and `<root>/volumes` (berth volumes). */
export function mountsFor(
  pod: PodManifest,
  c: ContainerManifest,
  host: { pods: string; volumes: string },
  env: readonly string[],
  envWaiting = false,
): ContainerMount[] {
  const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));
  return (c.volumeMounts ?? []).map((m): ContainerMount => {
    const v = volumes.get(m.name);
    // The volume's root and the subPath stay apart: the runtime resolves the subPath inside the
    // root when it creates the container, without following symlinks a container planted.
    const subPath = m.subPathExpr !== undefined ? expandSubPath(m.subPathExpr, env, envWaiting) : m.subPath;
    const sub = subPath ? { subPath } : {};
    const readOnly = m.readOnly === true;
    const propagation = propagationOf(m.mountPropagation);
    const rro = recursiveReadOnlyOf(m.recursiveReadOnly);
    const prop = { ...(propagation ? { propagation } : {}), ...(rro ? { recursiveReadOnly: rro } : {}) };
    if (v?.hostPath)
      return { kind: 'bind', source: v.hostPath.path, destination: m.mountPath, readOnly, ...sub, ...prop };
    if (v && isConfigVolume(v)) {
      // Read-only, as the kubelet mounts them; a subPath is taken inside the current `..data`.
      return {
        kind: 'bind',
        source: join(host.pods, podIdentity(pod.metadata), 'volumes', m.name),
        destination: m.mountPath,
        readOnly: true,
        ...(subPath ? { subPath, dataLink: true } : {}),
      };
    }
    if (v?.image)
      // Read-only whatever the mount says, as Kubernetes mounts an image volume.
      return {
        kind: 'image',
        source: normalizeImage(v.image.reference),
        destination: m.mountPath,
        readOnly: true,
        ...sub,
      };
    if (v?.persistentVolumeClaim) {
      return {
        kind: 'volume',
        source: join(host.volumes, v.persistentVolumeClaim.claimName),
        destination: m.mountPath,
        readOnly: readOnly || v.persistentVolumeClaim.readOnly === true,
        ...sub,
        ...prop,
        ...volumeFsGroup(pod, v.persistentVolumeClaim.readOnly === true),
      };
    }
    return {
      kind: 'bind',
      source: join(host.pods, podIdentity(pod.metadata), 'volumes', m.name),
      destination: m.mountPath,
      readOnly,
      ...sub,
      ...prop,
    };
  });
}

/** The images of the image volumes a container mounts, with each volume's pull policy. */
export function volumeImagesOf(pod: PodManifest, c: ContainerManifest): VolumeImage[] | undefined {
  const mounted = new Set((c.volumeMounts ?? []).map((m) => m.name));
  const out = (pod.spec.volumes ?? []).flatMap((v) =>
    v.image && mounted.has(v.name)
      ? [
          {
            image: normalizeImage(v.image.reference),
            pullPolicy: v.image.pullPolicy ?? defaultPullPolicy(v.image.reference),
          },
        ]
      : [],
  );
  return out.length > 0 ? out : undefined;
}
