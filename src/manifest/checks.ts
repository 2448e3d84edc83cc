// The checks a schema cannot make inside one document: container names unique within a pod,
// mounts naming declared volumes, and every value the schema lets through but the host cannot use
// (a memory limit under the floor, an image reference the parser refuses, a runtime name
// that is no container name). Those run the converters desired state runs (convert.ts), so what loads also converts:
// a value that cannot be used is a diagnostic of its file at its node, never an error in a pass.

import { isBerthError } from '../lib/errors.js';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { checkAdmission } from './admission-checks.js';
import { cpuLimitOf, isZeroQuantity, memoryLimitOf, normalizeImage, runtimeNameOf } from './convert.js';
import { checkHooks } from './hook-checks.js';
import { podIdentity } from './identity.js';
import type { ContainerManifest, ImageManifestDoc, PodManifest } from './kinds.js';
import { checkLabelKeys } from './label-keys-checks.js';
import { checkMounts } from './mount-checks.js';
import { podNetworkProblems } from './network-checks.js';
import { checkPodRefs } from './objects/pod-checks.js';
import { checkOsFields } from './os-checks.js';
import { checkOtherResources, quantityAbove } from './other-resources.js';
import { checkPodResources } from './pod-resource-checks.js';
import { checkPodUniques } from './pod-uniques.js';
import { at, type ParsedDoc } from './position.js';
import { checkProbeProtocols } from './probe-protocol-checks.js';
import { cpuSharesOf, memoryReservationOf, sizeLimitOf } from './requests.js';
import { checkResizePolicies } from './resize-checks.js';
import { checkRestartRules } from './restart-checks.js';
import { checkPodSecurity } from './security-checks.js';
import { checkStopSignals } from './stop-signal-checks.js';
import { checkTrustBundles } from './trust-bundle-checks.js';

type Path = Array<string | number>;

/** `convert`'s error, if it throws, as a diagnostic at `path`. */
function tryConvert(p: ParsedDoc, path: Path, convert: () => unknown): Diagnostic[] {
  try {
    convert();
    return [];
  } catch (err) {
    const code = isBerthError(err) ? err.code : 'ERR_MANIFEST_INVALID';
    return [at(p, path, code, err instanceof Error ? err.message : String(err))];
  }
}

function checkValues(p: ParsedDoc, pod: string, c: ContainerManifest, path: Path): Diagnostic[] {
  const { limits = {}, requests = {} } = c.resources ?? {};
  const res = (...rest: string[]) => [...path, 'resources', ...rest];
  return [
    ...tryConvert(p, [...path, 'name'], () => runtimeNameOf(pod, c.name)),
    ...tryConvert(p, [...path, 'image'], () => normalizeImage(c.image)),
    // A limit of 0 left here (tier-check drops the others) has a request above it: overLimit says so.
    ...(limits.memory === undefined || isZeroQuantity(limits.memory)
      ? []
      : tryConvert(p, res('limits', 'memory'), () => memoryLimitOf(limits.memory as string | number))),
    ...(limits.cpu === undefined || isZeroQuantity(limits.cpu)
      ? []
      : tryConvert(p, res('limits', 'cpu'), () => cpuLimitOf(limits.cpu as string | number))),
    ...(requests.memory === undefined
      ? []
      : tryConvert(p, res('requests', 'memory'), () =>
          memoryReservationOf(requests.memory as string | number),
        )),
    ...(requests.cpu === undefined
      ? []
      : tryConvert(p, res('requests', 'cpu'), () => cpuSharesOf(requests.cpu as string | number))),
    ...overLimit(p, res, 'cpu', requests.cpu, limits.cpu),
    ...overLimit(p, res, 'memory', requests.memory, limits.memory),
    ...checkOtherResources(p, res, limits, requests),
  ];
}

/**
 * A request above its limit, as a cluster refuses it: compared exactly, as Quantity.Cmp compares
 * (a request too large for the host's converters is still above a limit of 0).
 */
function overLimit(
  p: ParsedDoc,
  res: (...rest: string[]) => Path,
  name: string,
  request: string | number | undefined,
  limit: string | number | undefined,
): Diagnostic[] {
  if (request === undefined || limit === undefined || quantityAbove(request, limit) !== true) return [];
  return [
    at(
      p,
      res('requests', name),
      'ERR_MANIFEST_INVALID',
      `${name} request ${request} is more than its limit ${limit} (a cluster rejects it too)`,
    ),
  ];
}

export function checkPod(p: ParsedDoc): Diagnostic[] {
  const pod = p.value as PodManifest;
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const volumes = new Set((pod.spec.volumes ?? []).map((v) => v.name));
  for (const list of ['initContainers', 'containers'] as const) {
    for (const [i, c] of (pod.spec[list] ?? []).entries()) {
      if (seen.has(c.name)) {
        out.push(
          at(
            p,
            ['spec', list, i, 'name'],
            'ERR_MANIFEST_INVALID',
            `container name "${c.name}" is used twice in pod ${pod.metadata.name}`,
          ),
        );
      }
      seen.add(c.name);
      for (const [j, m] of (c.volumeMounts ?? []).entries()) {
        if (!volumes.has(m.name)) {
          out.push(
            at(
              p,
              ['spec', list, i, 'volumeMounts', j, 'name'],
              'ERR_MANIFEST_INVALID',
              `volume "${m.name}" is not declared in spec.volumes`,
            ),
          );
        }
      }
      out.push(...checkValues(p, podIdentity(pod.metadata), c, ['spec', list, i]));
      out.push(...checkMounts(p, c, ['spec', list, i]));
    }
  }
  out.push(...checkPodSecurity(p));
  out.push(...securityAnnotations(p));
  out.push(...podNetworkProblems(pod).map((n) => at(p, n.path, 'ERR_MANIFEST_INVALID', n.message)));
  out.push(...checkPodUniques(p));
  out.push(...checkRestartRules(p));
  out.push(...checkStopSignals(p));
  out.push(...checkOsFields(p));
  out.push(...checkAdmission(p));
  out.push(...checkHooks(p));
  out.push(...checkPodResources(p));
  out.push(...checkResizePolicies(p), ...checkLabelKeys(p), ...checkTrustBundles(p));
  out.push(...checkProbeProtocols(p));
  for (const [i, v] of (pod.spec.volumes ?? []).entries()) {
    const limit = v.emptyDir?.sizeLimit;
    if (limit === undefined) continue;
    const path = ['spec', 'volumes', i, 'emptyDir', 'sizeLimit'];
    out.push(...tryConvert(p, path, () => sizeLimitOf(limit)));
    if (v.emptyDir?.medium !== 'Memory')
      out.push(
        at(
          p,
          path,
          'WARN_EMPTYDIR_SIZE_NOT_ENFORCED',
          `emptyDir ${v.name}: sizeLimit is not enforced on disk (a kubelet evicts the pod past it; berth does not evict): use medium: Memory for a hard limit (a tmpfs of that size, counted in the pod's memory)`,
        ),
      );
  }
  const grace = pod.spec.terminationGracePeriodSeconds;
  if (grace !== undefined && grace < 0)
    out.push(
      at(
        p,
        ['spec', 'terminationGracePeriodSeconds'],
        'WARN_MANIFEST_K8S_WARNS',
        `spec.terminationGracePeriodSeconds ${grace} is negative: treated as 1, as a cluster treats it (with a warning: must be >= 0)`,
      ),
    );
  for (const [i, ref] of (pod.spec.imagePullSecrets ?? []).entries())
    if (!ref.name)
      out.push(
        at(
          p,
          ['spec', 'imagePullSecrets', i],
          'WARN_MANIFEST_IGNORED',
          `spec.imagePullSecrets.${i} names no Secret: skipped, as the kubelet skips it (a cluster warns: invalid empty name)`,
        ),
      );
  out.push(...checkPodRefs(p));
  return out;
}

export function checkImage(p: ParsedDoc): Diagnostic[] {
  const image = p.value as ImageManifestDoc;
  return tryConvert(p, ['spec', 'ref'], () => normalizeImage(image.spec.ref));
}

/**
 * The annotation forms of fields berth warns about (AppArmor's, which a cluster's API server still
 * turns into the field; seccomp's alpha ones, which Kubernetes no longer reads): warned the same, so a
 * profile asked for this way is never dropped without a word.
 */
function securityAnnotations(p: ParsedDoc): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const key of Object.keys((p.value as PodManifest).metadata.annotations ?? {})) {
    const why = key.startsWith('container.apparmor.security.beta.kubernetes.io/')
      ? 'berth does not load AppArmor profiles'
      : key === 'seccomp.security.alpha.kubernetes.io/pod' ||
          key.startsWith('container.seccomp.security.alpha.kubernetes.io/')
        ? 'Kubernetes no longer reads it: use securityContext.seccompProfile'
        : undefined;
    if (why)
      out.push(
        at(
          p,
          ['metadata', 'annotations', key],
          'WARN_MANIFEST_IGNORED',
          `annotation ${key} is ignored: ${why}`,
        ),
      );
  }
  return out;
}
