// An emptyDir of `medium: HugePages` or `HugePages-<size>` (a hugetlbfs mount, which a cluster takes
// and its kubelet mounts when the pod requests hugepages of that size): berth gives a pod no
// hugepages (hugepages-<size> resources are ignored with a warning), so it is refused with
// ERR_MANIFEST_UNSUPPORTED naming the volume, before the schema (whose media are '' and Memory)
// would say no more than "must be one of". The field is then dropped, so the schema adds no second
// line about it. Pure: it rewrites the value it is given (a fresh toJS copy).
import type { Document, LineCounter } from 'yaml';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { keyAt } from './tier-check.js';

/** As the kubelet's IsHugePageMedium: `HugePages`, or `HugePages-` and a page size. */
const isHugePagesMedium = (medium: unknown) =>
  typeof medium === 'string' && (medium === 'HugePages' || medium.startsWith('HugePages-'));

export function refuseHugePagesMedium(
  doc: Document,
  value: unknown,
  lc: LineCounter,
  file: string,
): Diagnostic[] {
  const volumes = (value as { spec?: { volumes?: unknown } } | null)?.spec?.volumes;
  if (!Array.isArray(volumes)) return [];
  const out: Diagnostic[] = [];
  for (const [i, v] of volumes.entries()) {
    const dir = (v as { emptyDir?: unknown } | null)?.emptyDir;
    if (dir === null || typeof dir !== 'object') continue;
    const medium = (dir as { medium?: unknown }).medium;
    if (!isHugePagesMedium(medium)) continue;
    const name = (v as { name?: unknown }).name;
    out.push(
      keyAt(doc, lc, file, ['spec', 'volumes', i, 'emptyDir', 'medium'])(
        'ERR_MANIFEST_UNSUPPORTED',
        `emptyDir ${String(name)}: medium ${String(medium)} (a hugetlbfs mount) is not supported: berth gives a pod no hugepages (hugepages-<size> resources are ignored); leave medium out for a directory on disk, or use Memory for a tmpfs`,
      ),
    );
    delete (dir as { medium?: unknown }).medium;
  }
  return out;
}
