// A container's resizePolicy as the API server checks it beyond its shape (validation.go's
// validateResizePolicy): one entry per resource, so cpu or memory given twice is refused (a
// Duplicate value), and RestartContainer refused in a pod whose restartPolicy is Never. berth ignores the field (tiers.ts: resizing in place is a cluster API operation),
// so the document is read again, as a cluster decodes it (aliases and `<<` merges resolved). Its shape
// (cpu or memory, NotRequired or RestartContainer) and where it may stand (not on an init container
// other than a sidecar) are the schema's. Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';
import type { PodManifest } from './kinds.js';
import { isObj, type Obj } from './plain.js';
import { at, type ParsedDoc } from './position.js';

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function checkResizePolicies(p: ParsedDoc): Diagnostic[] {
  const pod = p.value as PodManifest;
  const doc = p.doc.toJS() as unknown;
  const spec = isObj(doc) && isObj(doc.spec) ? doc.spec : {};
  const out: Diagnostic[] = [];
  for (const kind of ['initContainers', 'containers'] as const) {
    const containers = list(spec[kind]);
    for (const [i, c] of (pod.spec[kind] ?? []).entries()) {
      const seen = new Set<string>();
      const entries = list(isObj(containers[i]) ? (containers[i] as Obj).resizePolicy : undefined);
      for (const [j, e] of entries.entries()) {
        const name = isObj(e) ? String(e.resourceName) : '';
        if (seen.has(name))
          out.push(
            at(
              p,
              ['spec', kind, i, 'resizePolicy', j, 'resourceName'],
              'ERR_MANIFEST_INVALID',
              `container ${c.name} gives a resizePolicy for ${name} twice (a cluster rejects the duplicate)`,
            ),
          );
        seen.add(name);
        if (pod.spec.restartPolicy === 'Never' && isObj(e) && e.restartPolicy === 'RestartContainer')
          out.push(
            at(
              p,
              ['spec', kind, i, 'resizePolicy', j, 'restartPolicy'],
              'ERR_MANIFEST_INVALID',
              `container ${c.name}: a resizePolicy for ${name} must be NotRequired when the pod's restartPolicy is Never (a cluster rejects RestartContainer there)`,
            ),
          );
      }
    }
  }
  return out;
}
