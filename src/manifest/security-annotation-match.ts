// A Pod's old seccomp and AppArmor annotations beside the securityContext fields that replaced them,
// refused where they differ, as a cluster refuses them on create (validateSeccompAnnotationsAndFields
// and validateAppArmorAnnotationsAndFieldsMatchOnCreate in Kubernetes' validation.go): the pod
// annotation against the pod's seccompProfile, a container's annotation against that container's
// seccompProfile, and a container's AppArmor annotation against its appArmorProfile, or, when it
// has none and the annotation names no profile, the pod's (a windows pod's are not compared). A file upgraded by adding the field while the
// annotation still says something else loaded here (the annotation only warned as ignored) and
// failed on kubectl apply. Runs before the tiers drop appArmorProfile, on the value as read. Pure.
import type { Document, LineCounter } from 'yaml';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { isObj, type Obj, podParts } from './plain.js';
import { keyAt } from './tier-check.js';

type Path = (string | number)[];

const SECCOMP_POD = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER = 'container.seccomp.security.alpha.kubernetes.io/';
const APPARMOR_CONTAINER = 'container.apparmor.security.beta.kubernetes.io/';

/** The values an annotation may hold for each profile type, as validation.go compares them. */
const SECCOMP_VALUES: Record<string, string[]> = {
  Unconfined: ['unconfined'],
  RuntimeDefault: ['runtime/default', 'docker/default'],
};
const APPARMOR_VALUES: Record<string, string[]> = {
  Unconfined: ['unconfined'],
  RuntimeDefault: ['runtime/default'],
};

/**
 * The field of `profile` (a seccompProfile or appArmorProfile at `path`) that differs from the
 * annotation's value, or undefined when they match (or the type is none validation.go compares).
 */
function mismatch(
  profile: Obj,
  annotation: string,
  values: Record<string, string[]>,
): 'type' | 'localhostProfile' | undefined {
  const type = profile.type;
  if (typeof type !== 'string') return undefined;
  if (type === 'Localhost') {
    if (!annotation.startsWith('localhost/')) return 'type';
    return profile.localhostProfile === annotation.slice('localhost/'.length)
      ? undefined
      : 'localhostProfile';
  }
  const allowed = values[type];
  return allowed === undefined || allowed.includes(annotation) ? undefined : 'type';
}

/** A localhost profile name as ValidateAppArmorProfileField takes it: no edge whitespace, < 4096 bytes. */
const LOCALHOST_PROFILE = /^localhost\/\S(?:[\s\S]{0,4093}\S)?$/;

/** Whether an AppArmor annotation names a profile (as the kubelet's version skew reads it). */
function isAppArmorProfile(v: unknown): boolean {
  return (
    v === 'runtime/default' || v === 'unconfined' || (typeof v === 'string' && LOCALHOST_PROFILE.test(v))
  );
}

export function checkSecurityAnnotationMatch(
  doc: Document,
  value: unknown,
  lc: LineCounter,
  file: string,
): Diagnostic[] {
  const { annotations, spec } = podParts(value);
  const out: Diagnostic[] = [];
  const compare = (kind: 'seccompProfile' | 'appArmorProfile', profile: unknown, path: Path, key: string) => {
    const annotation = annotations[key];
    if (!isObj(profile) || typeof annotation !== 'string') return;
    const values = kind === 'seccompProfile' ? SECCOMP_VALUES : APPARMOR_VALUES;
    const differs = mismatch(profile, annotation, values);
    if (differs === undefined) return;
    const given = differs === 'type' ? `type ${String(profile.type)}` : 'localhostProfile';
    out.push(
      keyAt(
        doc,
        lc,
        file,
        [...path, differs],
        true,
      )(
        'ERR_MANIFEST_INVALID',
        `${kind} ${given} does not match annotation ${key}: ${annotation} (a cluster rejects a pod whose annotation and field differ: drop the annotation)`,
      ),
    );
  };

  const podContext = isObj(spec.securityContext) ? spec.securityContext : {};
  compare(
    'seccompProfile',
    podContext.seccompProfile,
    ['spec', 'securityContext', 'seccompProfile'],
    SECCOMP_POD,
  );
  const windows = isObj(spec.os) && spec.os.name === 'windows';
  for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
    const containers = Array.isArray(spec[list]) ? (spec[list] as unknown[]) : [];
    for (const [i, c] of containers.entries()) {
      if (!isObj(c) || typeof c.name !== 'string') continue;
      const context = isObj(c.securityContext) ? c.securityContext : {};
      const here: Path = ['spec', list, i, 'securityContext'];
      compare(
        'seccompProfile',
        context.seccompProfile,
        [...here, 'seccompProfile'],
        SECCOMP_CONTAINER + c.name,
      );
      if (windows) continue;
      const own = context.appArmorProfile !== undefined && context.appArmorProfile !== null;
      // A cluster first makes a valid annotation the container's own profile when it has none
      // (applyAppArmorVersionSkew): only one that names no profile is then compared with the pod's.
      if (!own && isAppArmorProfile(annotations[APPARMOR_CONTAINER + c.name])) continue;
      compare(
        'appArmorProfile',
        own ? context.appArmorProfile : podContext.appArmorProfile,
        own ? [...here, 'appArmorProfile'] : ['spec', 'securityContext', 'appArmorProfile'],
        APPARMOR_CONTAINER + c.name,
      );
    }
  }
  return out;
}
