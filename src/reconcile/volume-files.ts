// The files of a pod's configMap, secret, downwardAPI and projected volumes, as the kubelet
// writes them: every key of the object as a file named after it, or only the `items` given (key →
// path, with their own `mode`); `defaultMode` 0644 otherwise; with the pod's fsGroup, group-owned by
// it and group-readable (mode | 0440), as the kubelet's SetVolumeOwnership leaves them. A missing object or key leaves the
// pod waiting, unless `optional` (then the volume, or that file, is empty, as in Kubernetes); so does a
// resourceFieldRef naming a container the pod lacks (a cluster takes the file, and its kubelet's
// mount of the volume fails: "container … not found", the pod never starts). The
// stamp names one exact content: the host's copy is current when its `..data` points at
// `..<stamp>` (runtime/config-volumes.ts). Pure.
import { createHash } from 'node:crypto';
import { namespaceOf } from '../manifest/identity.js';
import type { VolumeManifest } from '../manifest/kinds.js';
import type { DownwardFile, KeyToPath } from '../manifest/objects/sources.js';
import type { ObjectKind } from '../manifest/objects/store.js';
import { fieldValue, resourceValue } from './downward.js';
import { objectLabel, type PodContext } from './pod-env.js';

export const DEFAULT_FILE_MODE = 0o644;
/** What fsGroup adds to a config volume's file mode (the kubelet's read-only mask: group read). */
const FS_GROUP_READ = 0o440;

export interface VolumeFile {
  /** Relative to the volume (checked by the schema: no `..`, no leading `/`). */
  path: string;
  mode: number;
  data: Buffer;
  /** The pod's fsGroup: the file's group (its mode then has group read, as the kubelet sets it). */
  gid?: number;
}

export interface VolumeContent {
  files: VolumeFile[];
  /** The objects it shows (`ConfigMap web-config`), for reasons. */
  objects: string[];
  /** Holds a Secret's values: kept on tmpfs, never on disk. */
  secret: boolean;
  missing: string[];
  stamp: string;
}

export const isConfigVolume = (v: VolumeManifest): boolean =>
  Boolean(v.configMap || v.secret || v.downwardAPI || v.projected);

/** Kept in memory, as the kubelet keeps them: secrets, downward API and projected volumes. */
export const isMemoryVolume = (v: VolumeManifest): boolean =>
  Boolean(v.secret || v.downwardAPI || v.projected);

export function volumeContent(v: VolumeManifest, ctx: PodContext): VolumeContent {
  const namespace = namespaceOf(ctx.pod.metadata);
  const files = new Map<string, VolumeFile>();
  const objects: string[] = [];
  const missing: string[] = [];
  const defaultMode =
    v.configMap?.defaultMode ??
    v.secret?.defaultMode ??
    v.downwardAPI?.defaultMode ??
    v.projected?.defaultMode ??
    DEFAULT_FILE_MODE;
  const fromObject = (kind: ObjectKind, ref: { name: string; items?: KeyToPath[]; optional?: boolean }) => {
    const what = objectLabel(kind, namespace, ref.name);
    objects.push(what);
    const object = ctx.objects.get(kind, namespace, ref.name);
    if (!object) {
      if (ref.optional !== true) missing.push(what);
      return;
    }
    const items: KeyToPath[] = ref.items ?? [...object.data.keys()].map((key) => ({ key, path: key }));
    for (const item of items) {
      const data = object.data.get(item.key);
      if (data === undefined) {
        if (ref.optional !== true) missing.push(`key ${item.key} of ${what}`);
        continue;
      }
      files.set(item.path, { path: item.path, mode: item.mode ?? defaultMode, data });
    }
  };
  const fromDownward = (items: DownwardFile[] | undefined) => {
    for (const item of items ?? []) {
      let text = '';
      if (item.fieldRef) text = fieldValue(item.fieldRef, ctx.pod, ctx.node);
      else if (item.resourceFieldRef) {
        const name = item.resourceFieldRef.containerName;
        const c = [...ctx.pod.spec.containers, ...(ctx.pod.spec.initContainers ?? [])].find(
          (x) => x.name === name,
        );
        if (c) text = resourceValue(item.resourceFieldRef, c, ctx.node, ctx.pod);
        else missing.push(`container "${name}" of volume ${v.name}'s resourceFieldRef (not in the pod)`);
      }
      files.set(item.path, { path: item.path, mode: item.mode ?? defaultMode, data: Buffer.from(text) });
    }
  };
  if (v.configMap) fromObject('ConfigMap', v.configMap);
  if (v.secret) fromObject('Secret', { ...v.secret, name: v.secret.secretName });
  if (v.downwardAPI) fromDownward(v.downwardAPI.items);
  for (const s of v.projected?.sources ?? []) {
    if (s.configMap) fromObject('ConfigMap', s.configMap);
    if (s.secret) fromObject('Secret', s.secret);
    if (s.downwardAPI) fromDownward(s.downwardAPI.items);
  }
  const fsGroup = ctx.pod.spec.securityContext?.fsGroup;
  const list = [...files.values()]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => (fsGroup === undefined ? f : { ...f, mode: f.mode | FS_GROUP_READ, gid: fsGroup }));
  const h = createHash('sha256');
  if (fsGroup !== undefined) h.update(`fsGroup\0${fsGroup}\0`); // a pod without one keeps its stamps
  for (const f of list) h.update(`${f.path}\0${f.mode}\0${f.data.length}\0`).update(f.data);
  return {
    files: list,
    objects,
    secret: Boolean(v.secret || v.projected?.sources.some((s) => s.secret)),
    missing,
    stamp: h.digest('hex').slice(0, 32),
  };
}
