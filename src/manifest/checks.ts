// The checks a schema cannot make inside one document: container names unique within a pod,
// mounts naming declared volumes, and every value the schema lets through but the host cannot use
// (a memory limit under the floor, `cpu: 0`, an image reference the parser refuses, a runtime name
// too long). Those run the converters desired state runs (convert.ts), so what loads also converts:
// a value that cannot be used is a diagnostic of its file at its node, never an error in a pass.

import { isBerthError } from '../lib/errors.js';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { cpuLimitOf, memoryLimitOf, normalizeImage, runtimeNameOf } from './convert.js';
import { podIdentity } from './identity.js';
import type { ContainerManifest, ImageManifestDoc, PodManifest } from './kinds.js';
import { checkMounts } from './mount-checks.js';
import { checkPodRefs } from './objects/pod-checks.js';
import { at, type ParsedDoc } from './position.js';
import { cpuSharesOf, memoryReservationOf, sizeLimitOf } from './requests.js';
import { checkPodSecurity } from './security-checks.js';

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
    ...(limits.memory === undefined
      ? []
      : tryConvert(p, res('limits', 'memory'), () => memoryLimitOf(limits.memory as string | number))),
    ...(limits.cpu === undefined
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
  out.push(...checkPodRefs(p));
  return out;
}

export function checkImage(p: ParsedDoc): Diagnostic[] {
  const image = p.value as ImageManifestDoc;
  return tryConvert(p, ['spec', 'ref'], () => normalizeImage(image.spec.ref));
}
