// What spec.os.name linux forbids, as the API server checks it (validation.go's validateLinux):
// windowsOptions, at the pod or in any container. berth warns of windowsOptions and runs the pod
// without them (tiers.ts), but a pod that names linux and sets them is one a cluster refuses, so it
// is refused here too, at each. (spec.os.name windows is refused outright: stop-signal-checks.ts.)
// Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';
import type { PodManifest } from './kinds.js';
import type { ParsedDoc } from './position.js';
import { keyAt } from './tier-check.js';

export function checkOsFields(p: ParsedDoc): Diagnostic[] {
  const pod = p.value as PodManifest;
  if (pod.spec.os?.name !== 'linux') return [];
  // The tier check took the warned field out of the value: the document still has it.
  const holders: Array<Array<string | number>> = [['spec']];
  for (const list of ['initContainers', 'containers'] as const)
    for (const i of (pod.spec[list] ?? []).keys()) holders.push(['spec', list, i]);
  return holders
    .map((holder) => [...holder, 'securityContext', 'windowsOptions'])
    .filter((path) => p.doc.getIn(path) != null) // `windowsOptions: null` is unset, as a cluster decodes it
    .map((path) =>
      keyAt(
        p.doc,
        p.lc,
        p.file,
        path,
      )(
        'ERR_MANIFEST_INVALID',
        `${path.join('.')} cannot be set for a pod whose spec.os.name is linux (a cluster rejects it too)`,
      ),
    );
}
