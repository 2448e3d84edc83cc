// A volume item's path and a mount's subPath as a cluster takes them and the kubelet uses them:
// validation.go refuses only an absolute path, a `..` component and (for an item) a leading `..`
// (validateLocalDescendingPath, validateLocalNonReservedPath), so `./app.conf`, `conf//b.conf` and
// `dir/` are valid, and the kubelet cleans them (the atomic writer's path.Clean, a subPath joined to
// the volume's path). They are cleaned here the same way, before the schema, so the rest of berth
// (the schema's patterns, the item clash check, the volume files, the sub-path resolver) sees only
// clean relative paths. A subPath that cleans to nothing (`.`, `./`) is the whole volume, as it is to
// the kubelet, and is dropped; an item path that does, or any path that is absolute or holds a `..`,
// is left as written, for the schema to refuse. Pure: rewrites the value it is given (a fresh toJS
// copy).
import { forEachField } from './tier-check.js';
import { expandTierPath } from './tiers.js';

const ITEMS = ['configMap.items.*.path', 'secret.items.*.path', 'downwardAPI.items.*.path'];

/** The fields (tiers.ts' keys: `container.` is every container list, `volume.` every volume). */
export const CLEANED_PATHS: readonly string[] = [
  'container.volumeMounts.*.subPath',
  ...ITEMS.map((p) => `volume.${p}`),
  ...ITEMS.map((p) => `volume.projected.sources.*.${p}`),
  'volume.projected.sources.*.serviceAccountToken.path',
  'volume.projected.sources.*.clusterTrustBundle.path',
];

const PATTERNS = CLEANED_PATHS.flatMap(expandTierPath);

/** `p` without `.` and empty components ("" when nothing is left), or `p` itself when absolute or with a `..`. */
export function cleanRelativePath(p: string): string {
  if (p.startsWith('/')) return p;
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  return parts.includes('..') ? p : parts.join('/');
}

/** Rewrites each listed field that is a string to its clean form. */
export function cleanVolumePaths(value: unknown): void {
  forEachField(value, PATTERNS, (holder, key) => {
    const v = holder[key];
    if (typeof v !== 'string' || v === '') return;
    const clean = cleanRelativePath(v);
    if (clean !== '') holder[key] = clean;
    else if (key === 'subPath' && holder.subPathExpr === undefined) delete holder[key]; // beside one, refused as a cluster refuses both
  });
}
