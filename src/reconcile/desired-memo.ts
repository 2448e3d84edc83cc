// Desired pods remembered between passes: a file that did not change hands every pass the same
// parsed pod (the load cache), and the ConfigMaps and Secrets it refers to decode to the same
// values (objects/store.ts), so the pod built last time is the pod now. A pass that changes nothing
// then builds nothing (scripts/bench/reconcile: 100 pods with a ConfigMap each). Keyed by the pod
// object itself (a WeakMap: a pod no longer loaded is forgotten); valid while its file, the host
// and every object it names (the same decoded values, or still missing) are the same.

import { namespaceOf } from '../manifest/identity.js';
import type { PodManifest } from '../manifest/kinds.js';
import type { ObjectKind, ObjectStore } from '../manifest/objects/store.js';
import type { VolumeFile } from './volume-files.js';

/** A built pod (desired.ts's DesiredPod; generic here so that this file needs nothing of that one). */
type Pod = { name: string };

interface Built {
  file: string;
  host: object;
  seen: unknown[];
  pod: Pod;
  files: Array<[string, VolumeFile[]]>;
  pullAuth?: string[];
}

const built = new WeakMap<PodManifest, Built>();

/** Every ConfigMap and Secret a pod names (env, envFrom, volumes, imagePullSecrets). */
function namedObjects(pod: PodManifest): Array<[ObjectKind, string]> {
  const out: Array<[ObjectKind, string]> = [];
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef) out.push(['ConfigMap', f.configMapRef.name]);
      if (f.secretRef) out.push(['Secret', f.secretRef.name]);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef) out.push(['ConfigMap', e.valueFrom.configMapKeyRef.name]);
      if (e.valueFrom?.secretKeyRef) out.push(['Secret', e.valueFrom.secretKeyRef.name]);
    }
  }
  for (const v of pod.spec.volumes ?? []) {
    if (v.configMap) out.push(['ConfigMap', v.configMap.name]);
    if (v.secret) out.push(['Secret', v.secret.secretName]);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap) out.push(['ConfigMap', s.configMap.name]);
      if (s.secret) out.push(['Secret', s.secret.name]);
    }
  }
  for (const s of pod.spec.imagePullSecrets ?? []) if (s.name) out.push(['Secret', s.name]);
  return out;
}

/** What a pod's build depends on among the objects: each named object's decoded values, or none. */
function seenObjects(pod: PodManifest, objects: ObjectStore): unknown[] {
  const ns = namespaceOf(pod.metadata);
  return namedObjects(pod).map(([kind, name]) => objects.get(kind, ns, name)?.data);
}

/** `build`'s pod, or the one it built for the same inputs before; its files and pull auth recorded. */
export function rememberedPod<P extends Pod>(
  pod: PodManifest,
  o: { file: string; host: object; objects: ObjectStore },
  sinks: { files: Map<string, VolumeFile[]>; pullAuth: Map<string, string[]> },
  build: (files: Map<string, VolumeFile[]>, pullAuth: Map<string, string[]>) => P,
): P {
  const seen = seenObjects(pod, o.objects);
  const hit = built.get(pod);
  if (hit && hit.file === o.file && hit.host === o.host && sameList(hit.seen, seen)) {
    for (const [path, list] of hit.files) sinks.files.set(path, list);
    if (hit.pullAuth) sinks.pullAuth.set(hit.pod.name, hit.pullAuth);
    return hit.pod as P;
  }
  const files = new Map<string, VolumeFile[]>();
  const pullAuth = new Map<string, string[]>();
  const result = build(files, pullAuth);
  for (const [path, list] of files) sinks.files.set(path, list);
  const auth = pullAuth.get(result.name);
  if (auth) sinks.pullAuth.set(result.name, auth);
  built.set(pod, {
    file: o.file,
    host: o.host,
    seen,
    pod: result,
    files: [...files],
    ...(auth ? { pullAuth: auth } : {}),
  });
  return result;
}

const sameList = (a: unknown[], b: unknown[]) => a.length === b.length && a.every((x, i) => x === b[i]);
