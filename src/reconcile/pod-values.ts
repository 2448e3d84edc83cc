// What a pod takes from the folder's other objects, beyond its containers' env (pod-env.ts): its
// config volumes (content, stamp, tmpfs or not; files kept apart from the pod in `files`), what it
// waits for (every missing, non-optional reference of its env and volumes, once each) and the
// docker config.json of each `imagePullSecrets` Secret (in `pullAuth`, by pod: never in the pod, whose
// JSON is hashed and kept). Pure.
import { join } from 'node:path';
import { namespaceOf, podIdentity } from '../manifest/identity.js';
import { DOCKER_CONFIG_KEY } from '../manifest/objects/kinds.js';
import { isDockerConfigSecret } from '../manifest/objects/store.js';
import type { PodContext } from './pod-env.js';
import { isConfigVolume, isMemoryVolume, type VolumeFile, volumeContent } from './volume-files.js';

/** A directory the pod owns; `memory`: a tmpfs. */
export interface PodDir {
  path: string;
  memory: boolean;
  mode?: number;
  /** The pod's fsGroup: the directory's group, setgid. */
  fsGroup?: number;
  /** A memory emptyDir's sizeLimit: the tmpfs size. */
  sizeBytes?: number;
}

/** A config volume: its content's stamp (the files themselves are kept apart) and what it shows. */
export interface ConfigVolume {
  name: string;
  path: string;
  stamp: string;
  objects: string[];
}

export interface PodValues {
  configVolumes?: ConfigVolume[];
  waitingFor?: string[];
}

/** A config volume's root: listable, never writable from the pod (its files have their own modes). */
const CONFIG_VOLUME_MODE = 0o755;

export function podValues(
  ctx: PodContext & { missing: string[] },
  volumesDir: string,
  files?: Map<string, VolumeFile[]>,
  pullAuth?: Map<string, string[]>,
): { podDirs: PodDir[]; extra: PodValues } {
  const { pod } = ctx;
  const namespace = namespaceOf(pod.metadata);
  const missing = [...ctx.missing];
  const podDirs: PodDir[] = [];
  const configVolumes: ConfigVolume[] = [];
  for (const v of (pod.spec.volumes ?? []).filter(isConfigVolume)) {
    const content = volumeContent(v, ctx);
    const path = join(volumesDir, v.name);
    missing.push(...content.missing);
    const fsGroup = pod.spec.securityContext?.fsGroup;
    podDirs.push({
      path,
      memory: isMemoryVolume(v) || content.secret,
      mode: CONFIG_VOLUME_MODE,
      ...(fsGroup !== undefined ? { fsGroup } : {}),
    });
    configVolumes.push({ name: v.name, path, stamp: content.stamp, objects: content.objects });
    files?.set(path, content.files);
  }
  const pullSecrets: string[] = [];
  for (const ref of pod.spec.imagePullSecrets ?? []) {
    if (!ref.name) continue; // as the kubelet: an entry that names nothing is skipped
    const secret = ctx.objects.get('Secret', namespace, ref.name);
    // As the kubelet: a missing or unusable pull secret is skipped (the pull may need none).
    if (secret && isDockerConfigSecret(secret))
      pullSecrets.push((secret.data.get(DOCKER_CONFIG_KEY) as Buffer).toString('utf8'));
  }
  if (pullSecrets.length > 0) pullAuth?.set(podIdentity(pod.metadata), pullSecrets);
  const waitingFor = [...new Set(missing)];
  return {
    podDirs,
    extra: {
      ...(configVolumes.length > 0 ? { configVolumes } : {}),
      ...(waitingFor.length > 0 ? { waitingFor } : {}),
    },
  };
}
