// A container's environment as the kubelet makes it: `envFrom` first (ConfigMaps and Secrets, each
// key under its `prefix`, later ones winning), then `env` in order (a `value` may use `$(NAME)` of
// anything defined before it; values from references are taken as they are), then `command` and
// `args` expanded against the result; all of it together is bounded as execve bounds it
// (MAX_EXEC_TOTAL, counted as it is made, so a pod past it is refused before it is built whole). A
// reference that is missing (object or key) leaves the pod waiting, unless it is `optional` (then the
// variable is left out); a `resourceFieldRef` naming a container the pod lacks (a cluster takes the
// file) is the container's `refused`, as the kubelet fails it (CreateContainerConfigError): that
// container is not made, the others are. Each value taken from a ConfigMap or Secret is known by a label (`Secret db
// key password`) and a digest, so a change says which key of which object changed without holding
// the value itself. Pure.
import { createHash } from 'node:crypto';
import { execTotal, expandVariables } from '../manifest/expand.js';
import { DEFAULT_NAMESPACE, namespaceOf } from '../manifest/identity.js';
import type { ContainerManifest, PodManifest } from '../manifest/kinds.js';
import type { KeyRef } from '../manifest/objects/sources.js';
import type { ObjectKind, ObjectStore } from '../manifest/objects/store.js';
import { fieldValue, type NodeFacts, resourceValue } from './downward.js';

export interface PodContext {
  pod: PodManifest;
  objects: ObjectStore;
  node: NodeFacts;
}

export interface ContainerEnv {
  /** `NAME=value`, envFrom's then env's, each name once (its first place, its last value). */
  env: string[];
  entrypoint?: string[];
  command?: string[];
  /** Label → digest of each value taken from a ConfigMap or Secret. */
  sources: Record<string, string>;
  /** Env names whose value is exactly a source's (the label): compared by digest, not by value. */
  sourced: Record<string, string>;
  /** What is missing and not optional (`ConfigMap web-config`, `key MODE of ConfigMap web-config`). */
  missing: string[];
  /** Why the container cannot be made from this env (a resourceFieldRef to no container of the pod). */
  refused?: string;
}

/** `ConfigMap web` in the default namespace, `ConfigMap team/web` in another. */
export function objectLabel(kind: ObjectKind, namespace: string, name: string): string {
  return `${kind} ${namespace === DEFAULT_NAMESPACE ? '' : `${namespace}/`}${name}`;
}

/** Digests by value: the same decoded Buffers come back every pass while their file is unchanged. */
const digests = new WeakMap<Buffer, string>();

export function digestOf(value: Buffer): string {
  let d = digests.get(value);
  if (d === undefined) {
    d = createHash('sha256').update(value).digest('hex').slice(0, 16);
    digests.set(value, d);
  }
  return d;
}

/** The kubelet skips envFrom keys that cannot be variable names (it reports them as an event). */
const isEnvName = (key: string) => key.length > 0 && !key.includes('=');

export function containerEnv(c: ContainerManifest, ctx: PodContext): ContainerEnv {
  const namespace = namespaceOf(ctx.pod.metadata);
  const vars = new Map<string, string>();
  // Keyed by env names, which may be `__proto__`: no prototype to set instead of a key.
  const out: ContainerEnv = { env: [], sources: {}, sourced: Object.create(null), missing: [] };
  const lookup = (kind: ObjectKind, name: string) => ctx.objects.get(kind, namespace, name);
  const total = execTotal(c.name);
  const set = (name: string, value: string, label?: string) => {
    total.env(name, value);
    vars.set(name, value);
    if (label) out.sourced[name] = label;
    else delete out.sourced[name];
  };
  for (const from of c.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const kind: ObjectKind = from.configMapRef ? 'ConfigMap' : 'Secret';
    const object = lookup(kind, ref.name);
    const what = objectLabel(kind, namespace, ref.name);
    if (!object) {
      if (ref.optional !== true) out.missing.push(what);
      continue;
    }
    for (const [key, value] of object.data) {
      if (!object.envKeys.has(key)) continue;
      const name = `${from.prefix ?? ''}${key}`;
      if (!isEnvName(name)) continue;
      const label = `${what} key ${key}`;
      out.sources[label] = digestOf(value);
      set(name, value.toString('utf8'), label);
    }
  }
  const keyRef = (kind: ObjectKind, ref: KeyRef): { value: string; label: string } | undefined => {
    const what = objectLabel(kind, namespace, ref.name);
    const object = lookup(kind, ref.name);
    const value = object?.envKeys.has(ref.key) ? object.data.get(ref.key) : undefined;
    if (value === undefined) {
      if (ref.optional !== true) out.missing.push(object ? `key ${ref.key} of ${what}` : what);
      return undefined;
    }
    const label = `${what} key ${ref.key}`;
    out.sources[label] = digestOf(value);
    return { value: value.toString('utf8'), label };
  };
  for (const e of c.env ?? []) {
    const from = e.valueFrom;
    if (!from) {
      set(
        e.name,
        expandVariables(e.value ?? '', (n) => vars.get(n), `container ${c.name}: env ${e.name}`),
      );
      continue;
    }
    const taken = from.configMapKeyRef
      ? keyRef('ConfigMap', from.configMapKeyRef)
      : from.secretKeyRef
        ? keyRef('Secret', from.secretKeyRef)
        : undefined;
    if (taken) set(e.name, taken.value, taken.label);
    else if (from.fieldRef) set(e.name, fieldValue(from.fieldRef, ctx.pod, ctx.node));
    else if (from.resourceFieldRef) {
      const target = from.resourceFieldRef.containerName;
      const other = target
        ? [...ctx.pod.spec.containers, ...(ctx.pod.spec.initContainers ?? [])].find((x) => x.name === target)
        : c;
      if (other) set(e.name, resourceValue(from.resourceFieldRef, other, ctx.node, ctx.pod));
      else
        out.refused ??= `container ${c.name}: env ${e.name}: resourceFieldRef names container "${target}", which is not in the pod`;
    }
  }
  out.env = [...vars].map(([k, v]) => `${k}=${v}`);
  const expand = (list: string[] | undefined, what: string) =>
    list?.map((s, i) => {
      const arg = expandVariables(s, (n) => vars.get(n), `container ${c.name}: ${what}[${i}]`);
      total.arg(arg, `${what}[${i}]`);
      return arg;
    });
  if (c.command) out.entrypoint = expand(c.command, 'command');
  if (c.args) out.command = expand(c.args, 'args');
  return out;
}
