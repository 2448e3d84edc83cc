// matchLabelKeys and mismatchLabelKeys of pod affinity terms and topology spread constraints, as
// the API server checks them when a Pod is created (Kubernetes 1.34 on: MatchLabelKeysInPodAffinity,
// GA in 1.33, and MatchLabelKeysInPodTopologySpreadSelectorMerge, beta and on from 1.34): each key a
// qualified name, none without a labelSelector, none in both lists; and, as the API server first merges
// each matchLabelKeys key the pod carries as a label into the selector (`key In [value]`), a key the
// selector already names is then named twice: "exists in both matchLabelKeys and labelSelector". A key
// the pod has no label for merges nothing and passes, as in a cluster (1.27–1.33 refused a spread
// constraint's key in both whatever the labels). berth ignores these scheduler fields (tiers.ts), so
// the document is read again, as a cluster decodes it (aliases and `<<` merges resolved). Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';
import type { PodManifest } from './kinds.js';
import { isObj, type Obj } from './plain.js';
import { at, type ParsedDoc } from './position.js';
import { qualifiedNameProblem } from './slips.js';

type Path = Array<string | number>;

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strings = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === 'string');

/** Every term or constraint that may carry label keys, with its path in the document. */
function holders(spec: Obj): Array<{ path: Path; term: Obj; mismatch: boolean }> {
  const out: Array<{ path: Path; term: Obj; mismatch: boolean }> = [];
  const affinity = isObj(spec.affinity) ? spec.affinity : {};
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const terms = isObj(affinity[kind]) ? (affinity[kind] as Obj) : {};
    const base = ['spec', 'affinity', kind];
    for (const [i, t] of list(terms.requiredDuringSchedulingIgnoredDuringExecution).entries())
      if (isObj(t))
        out.push({
          path: [...base, 'requiredDuringSchedulingIgnoredDuringExecution', i],
          term: t,
          mismatch: true,
        });
    for (const [i, w] of list(terms.preferredDuringSchedulingIgnoredDuringExecution).entries())
      if (isObj(w) && isObj(w.podAffinityTerm))
        out.push({
          path: [...base, 'preferredDuringSchedulingIgnoredDuringExecution', i, 'podAffinityTerm'],
          term: w.podAffinityTerm,
          mismatch: true,
        });
  }
  for (const [i, c] of list(spec.topologySpreadConstraints).entries())
    if (isObj(c)) out.push({ path: ['spec', 'topologySpreadConstraints', i], term: c, mismatch: false });
  return out;
}

export function checkLabelKeys(p: ParsedDoc): Diagnostic[] {
  const pod = p.value as PodManifest;
  const labels = pod.metadata.labels ?? {};
  const doc = p.doc.toJS() as unknown;
  const spec = isObj(doc) && isObj(doc.spec) ? doc.spec : {};
  const out: Diagnostic[] = [];
  const err = (path: Path, message: string) => out.push(at(p, path, 'ERR_MANIFEST_INVALID', message));
  for (const { path, term, mismatch } of holders(spec)) {
    const selector = isObj(term.labelSelector) ? term.labelSelector : undefined;
    const match = strings(term.matchLabelKeys);
    const lists: Array<[string, string[]]> = [['matchLabelKeys', match]];
    if (mismatch) lists.push(['mismatchLabelKeys', strings(term.mismatchLabelKeys)]);
    for (const [field, keys] of lists) {
      if (keys.length === 0) continue;
      if (selector === undefined) {
        err(
          [...path, field],
          `${field} must not be given without a labelSelector (a cluster rejects it too)`,
        );
        continue;
      }
      for (const [j, key] of keys.entries()) {
        const why = qualifiedNameProblem(key);
        if (why)
          err(
            [...path, field, j],
            `${field} key "${key}" is no label key: ${why} (a cluster rejects it too)`,
          );
      }
    }
    const mismatched = new Set(mismatch ? strings(term.mismatchLabelKeys) : []);
    for (const [j, key] of match.entries())
      if (mismatched.has(key))
        err(
          [...path, 'matchLabelKeys', j],
          `"${key}" is in both matchLabelKeys and mismatchLabelKeys (a cluster rejects it too)`,
        );
    if (selector === undefined) continue;
    // The merge a cluster makes first, then its check: an expression on a key of matchLabelKeys that
    // the selector named before (in matchLabels or an earlier expression) is refused.
    const merged = [
      ...list(selector.matchExpressions).map((e) => (isObj(e) ? String(e.key) : '')),
      ...match.filter((k) => Object.hasOwn(labels, k)),
    ];
    const seen = new Set(Object.keys(isObj(selector.matchLabels) ? selector.matchLabels : {}));
    const reported = new Set<string>();
    for (const key of merged) {
      if (match.includes(key) && seen.has(key) && !reported.has(key)) {
        reported.add(key);
        err(
          [...path, 'matchLabelKeys', match.indexOf(key)],
          `"${key}" is in both matchLabelKeys and the labelSelector: a cluster adds "${key} In (${labels[key] ?? ''})" from the pod's label to the selector and rejects the key named twice`,
        );
      }
      seen.add(key);
    }
  }
  return out;
}
