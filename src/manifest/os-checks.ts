// What spec.os.name linux forbids, as the API server checks it (validation.go's validateLinux):
// windowsOptions, at the pod or in any container. berth warns of windowsOptions and runs the pod
// without them (tiers.ts), but a pod that names linux and sets them is one a cluster refuses, so it
// is refused here too, at each. The tier check took the warned field out of the value, so the
// document is read again, as a cluster decodes it: aliases and `<<` merges resolved (a
// securityContext or container written through an anchor), `windowsOptions: null` unset.
// (spec.os.name windows is refused outright: stop-signal-checks.ts.) Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';
import type { PodManifest } from './kinds.js';
import type { Obj } from './plain.js';
import type { ParsedDoc } from './position.js';
import { keyAt } from './tier-check.js';

type Path = Array<string | number>;

const objectAt = (v: unknown, key: string | number): Obj | undefined => {
  const x = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[key] : undefined;
  return x !== null && typeof x === 'object' ? (x as Obj) : undefined;
};

/** The deepest prefix of `path` the document has a node for (an alias ends the walk: it is there). */
function nearest(p: ParsedDoc, path: Path): Path {
  for (let n = path.length; n > 0; n--)
    if (p.doc.getIn(path.slice(0, n), true) !== undefined) return path.slice(0, n);
  return [];
}

export function checkOsFields(p: ParsedDoc): Diagnostic[] {
  const pod = p.value as PodManifest;
  if (pod.spec.os?.name !== 'linux') return [];
  const spec = objectAt(p.doc.toJS(), 'spec');
  const holders: Array<{ path: Path; value: Obj | undefined }> = [{ path: ['spec'], value: spec }];
  for (const list of ['initContainers', 'containers'] as const) {
    const containers = spec?.[list];
    for (const i of (pod.spec[list] ?? []).keys())
      holders.push({ path: ['spec', list, i], value: objectAt(containers, i) });
  }
  return holders
    .filter(({ value }) => objectAt(value, 'securityContext')?.windowsOptions != null)
    .map(({ path }) => {
      const field = [...path, 'securityContext', 'windowsOptions'];
      return keyAt(
        p.doc,
        p.lc,
        p.file,
        nearest(p, field),
      )(
        'ERR_MANIFEST_INVALID',
        `${field.join('.')} cannot be set for a pod whose spec.os.name is linux (a cluster rejects it too)`,
      );
    });
}
