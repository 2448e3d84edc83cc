// What a schema cannot say about a Pod's references: an env var with both `value` and
// `valueFrom`, or a `valueFrom`/`envFrom` naming no source or two; a `resourceFieldRef` of a volume
// naming no container, with a divisor Kubernetes refuses (one naming a container the pod lacks is
// taken, as validateContainerResourceFieldSelector takes it: the kubelet fails what reads it, and so
// does berth: reconcile/pod-env.ts, volume-files.ts); a
// downwardAPI file with no field or two; a projected source of two kinds (an empty one is a
// warning); a `status.*` field in a volume (the kubelet writes those only to env); a fieldRef to one
// label or annotation whose key is no qualified name (validateObjectFieldSelector; an annotation's
// lower-cased first); two items of one volume one inside the other, or of a projected volume at one
// path as written. Pure.
import { isMap } from 'yaml';
import type { Diagnostic } from '../../lib/yaml-validate.js';
import type { ContainerManifest, PodManifest, VolumeManifest } from '../kinds.js';
import { at, type ParsedDoc } from '../position.js';
import { qualifiedNameProblem } from '../slips.js';
import { divisorAs, divisorsFor } from './divisors.js';
import { firstClashes } from './path-clashes.js';
import type { DownwardFile, ResourceFieldRef } from './sources.js';

type Path = Array<string | number>;

/**
 * Whether the file has a field at `path` that `kept` (the value) lacks: one the tier table reported
 * (warned or refused) and dropped (tier-check.ts), so "no source" would be a second line about it.
 */
/** The kinds of source a projected source gives, in the file (a warned kind is dropped from the value). */
const PROJECTED_KINDS = [
  'configMap',
  'secret',
  'downwardAPI',
  'serviceAccountToken',
  'clusterTrustBundle',
  'podCertificate',
] as const;

function projectedKinds(p: ParsedDoc, path: Path, kept: object): string[] {
  const node = p.doc.getIn(path, true);
  return PROJECTED_KINDS.filter((k) => {
    if ((kept as Record<string, unknown>)[k] != null) return true;
    if (k in kept || !isMap(node)) return false;
    const item = node.items.find((i) => (i.key as { value?: unknown } | null)?.value === k);
    const value = item?.value as { value?: unknown } | null | undefined;
    return item !== undefined && value != null && value.value !== null; // `configMap:` (null) is none given
  });
}

function hasDroppedField(p: ParsedDoc, path: Path, kept: object): boolean {
  const node = p.doc.getIn(path, true);
  return (
    isMap(node) &&
    node.items.some((item) => {
      const key = (item.key as { value?: unknown } | null)?.value;
      return typeof key === 'string' && !(key in kept);
    })
  );
}

function checkResourceRef(p: ParsedDoc, ref: ResourceFieldRef, path: Path, inVolume: boolean): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (ref.containerName === undefined && inVolume)
    out.push(at(p, path, 'ERR_MANIFEST_INVALID', 'a volume resourceFieldRef must name its containerName'));
  if (ref.divisor !== undefined && divisorAs(ref.resource, ref.divisor) === undefined)
    out.push(
      at(
        p,
        [...path, 'divisor'],
        'ERR_MANIFEST_INVALID',
        `divisor of ${ref.resource} must be one of ${divisorsFor(ref.resource).join(', ')} (or 0: none)`,
      ),
    );
  return out;
}

/** `metadata.labels['KEY']` or `metadata.annotations['KEY']`, split as Kubernetes' SplitMaybeSubscriptedPath does. */
const SUBSCRIPTED = /^metadata\.(labels|annotations)\['(.*)'\]$/s;

/** A fieldRef naming a label or annotation key no object can have, refused at its fieldPath. */
function checkFieldRefKey(p: ParsedDoc, fieldPath: string, path: Path): Diagnostic[] {
  const [, field, key = ''] = SUBSCRIPTED.exec(fieldPath) ?? [];
  if (field === undefined) return [];
  const why = qualifiedNameProblem(field === 'labels' ? key : key.toLowerCase());
  if (why === undefined) return [];
  const what = field === 'labels' ? 'a label key' : 'an annotation key';
  return [
    at(
      p,
      path,
      'ERR_MANIFEST_INVALID',
      `${fieldPath}: ${key} is not ${what} (${why}): a cluster rejects it too`,
    ),
  ];
}

function checkDownwardFiles(p: ParsedDoc, items: DownwardFile[] | undefined, path: Path): Diagnostic[] {
  return (items ?? []).flatMap((item, i) => {
    const here = [...path, i];
    if (Boolean(item.fieldRef) === Boolean(item.resourceFieldRef))
      return [
        at(
          p,
          here,
          'ERR_MANIFEST_INVALID',
          'a downwardAPI item needs exactly one of fieldRef, resourceFieldRef',
        ),
      ];
    if (item.fieldRef?.fieldPath.startsWith('status.') || item.fieldRef?.fieldPath.startsWith('spec.'))
      return [
        at(
          p,
          [...here, 'fieldRef', 'fieldPath'],
          'ERR_MANIFEST_INVALID',
          `${item.fieldRef.fieldPath} is given to env only; a downwardAPI volume takes metadata.* fields`,
        ),
      ];
    if (item.fieldRef)
      return checkFieldRefKey(p, item.fieldRef.fieldPath, [...here, 'fieldRef', 'fieldPath']);
    return item.resourceFieldRef
      ? checkResourceRef(p, item.resourceFieldRef, [...here, 'resourceFieldRef'], true)
      : [];
  });
}

function checkContainerRefs(p: ParsedDoc, c: ContainerManifest, path: Path): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [i, e] of (c.env ?? []).entries()) {
    const here = [...path, 'env', i];
    if (!e.valueFrom) continue;
    if (e.value !== undefined)
      out.push(
        at(
          p,
          [...here, 'value'],
          'ERR_MANIFEST_INVALID',
          `env ${e.name}: value and valueFrom exclude each other`,
        ),
      );
    const given = Object.keys(e.valueFrom);
    if (given.length > 1 || (given.length === 0 && !hasDroppedField(p, [...here, 'valueFrom'], e.valueFrom)))
      out.push(
        at(
          p,
          [...here, 'valueFrom'],
          'ERR_MANIFEST_INVALID',
          `env ${e.name}: valueFrom must name exactly one of configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef`,
        ),
      );
    if (e.valueFrom.fieldRef)
      out.push(
        ...checkFieldRefKey(p, e.valueFrom.fieldRef.fieldPath, [
          ...here,
          'valueFrom',
          'fieldRef',
          'fieldPath',
        ]),
      );
    if (e.valueFrom.resourceFieldRef)
      out.push(
        ...checkResourceRef(
          p,
          e.valueFrom.resourceFieldRef,
          [...here, 'valueFrom', 'resourceFieldRef'],
          false,
        ),
      );
  }
  for (const [i, f] of (c.envFrom ?? []).entries())
    if (Boolean(f.configMapRef) === Boolean(f.secretRef))
      out.push(
        at(
          p,
          [...path, 'envFrom', i],
          'ERR_MANIFEST_INVALID',
          'envFrom needs exactly one of configMapRef, secretRef',
        ),
      );
  return out;
}

/**
 * The item paths a volume names (`items` of its sources), none inside another: the kubelet cannot
 * write both `a` and `a/b`. One path given twice is taken, the last item's file written, as the
 * kubelet's payload map keeps it (validation.go checks no configMap, secret or downwardAPI volume's
 * items for it), but in a projected volume two items written alike are refused, as
 * validateProjectionSources refuses them ("conflicting duplicate paths"; it compares the paths as
 * written: `./a` beside `a` passes), a clusterTrustBundle's path among them.
 */
function checkItemPaths(p: ParsedDoc, v: VolumeManifest, i: number): Diagnostic[] {
  /** `trie`: a file berth writes (a clusterTrustBundle's, warned and dropped, is only compared as written). */
  const paths: Array<{ path: string; at: Path; projected: boolean; trie: boolean }> = [];
  const add = (items: Array<{ path: string }> | undefined, base: Path, projected = false) =>
    items?.forEach((item, j) => {
      paths.push({ path: item.path, at: [...base, j, 'path'], projected, trie: true });
    });
  const vol: Path = ['spec', 'volumes', i];
  add(v.configMap?.items, [...vol, 'configMap', 'items']);
  add(v.secret?.items, [...vol, 'secret', 'items']);
  add(v.downwardAPI?.items, [...vol, 'downwardAPI', 'items']);
  v.projected?.sources.forEach((s, j) => {
    const src: Path = [...vol, 'projected', 'sources', j];
    add(s.configMap?.items, [...src, 'configMap', 'items'], true);
    add(s.secret?.items, [...src, 'secret', 'items'], true);
    add(s.downwardAPI?.items, [...src, 'downwardAPI', 'items'], true);
    const bundle: Path = [...src, 'clusterTrustBundle', 'path'];
    const bundlePath = p.doc.getIn(bundle);
    if (typeof bundlePath === 'string' && bundlePath !== '')
      paths.push({ path: bundlePath, at: bundle, projected: true, trie: false });
  });
  // The path as written (clean-paths.ts cleaned the value's).
  const written = (x: { path: string; at: Path }) => {
    const raw = p.doc.getIn(x.at);
    return typeof raw === 'string' ? raw : x.path;
  };
  const inTrie = paths.flatMap((x, n) => (x.trie ? [n] : []));
  const firsts = firstClashes(inTrie.map((n) => (paths[n] as { path: string }).path));
  const clashOf = new Map(inTrie.map((n, k) => [n, firsts[k] === undefined ? undefined : inTrie[firsts[k]]]));
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  paths.forEach((a, n) => {
    const clash = paths[clashOf.get(n) ?? -1];
    const twice = a.projected && seen.has(written(a));
    if (a.projected) seen.add(written(a));
    // A path's first clash is one given before it only when it was given before (then any path it
    // is inside, or holds, clashed with that first one and was named there).
    if ((clash && clash.path !== a.path) || twice)
      out.push(
        at(
          p,
          a.at,
          'ERR_MANIFEST_INVALID',
          `path ${a.path} conflicts with ${(clash ?? a).path} in volume ${v.name}`,
        ),
      );
  });
  return out;
}

export function checkPodRefs(p: ParsedDoc): Diagnostic[] {
  const pod = p.value as PodManifest;
  const lists = ['initContainers', 'containers'] as const;
  const out = lists.flatMap((l) =>
    (pod.spec[l] ?? []).flatMap((c, i) => checkContainerRefs(p, c, ['spec', l, i])),
  );
  for (const [i, v] of (pod.spec.volumes ?? []).entries()) {
    out.push(...checkItemPaths(p, v, i));
    out.push(...checkDownwardFiles(p, v.downwardAPI?.items, ['spec', 'volumes', i, 'downwardAPI', 'items']));
    for (const [j, s] of (v.projected?.sources ?? []).entries()) {
      const here = ['spec', 'volumes', i, 'projected', 'sources', j];
      const given = [s.configMap, s.secret, s.downwardAPI].filter(Boolean).length;
      // A serviceAccountToken, podCertificate or clusterTrustBundle alone was warned about and dropped (tiers.ts): it
      // is no empty source. An empty one a cluster takes with a warning; the kubelet projects nothing.
      if (given === 0 && !hasDroppedField(p, here, s))
        out.push(
          at(
            p,
            here,
            'WARN_MANIFEST_IGNORED',
            `spec.volumes.${i}.projected.sources.${j} has no source: skipped, as the kubelet skips it (a cluster warns: has no sources provided)`,
          ),
        );
      // Kubernetes: "may not specify more than 1 volume type", whichever kinds (a warned one too).
      const kinds = projectedKinds(p, here, s);
      if (kinds.length > 1)
        out.push(
          at(
            p,
            here,
            'ERR_MANIFEST_INVALID',
            `spec.volumes.${i}.projected.sources.${j} gives ${kinds.join(' and ')}: a projected source takes exactly one of configMap, secret, downwardAPI, serviceAccountToken, clusterTrustBundle, podCertificate (a cluster rejects more than one)`,
          ),
        );
      out.push(...checkDownwardFiles(p, s.downwardAPI?.items, [...here, 'downwardAPI', 'items']));
    }
  }
  return out;
}
