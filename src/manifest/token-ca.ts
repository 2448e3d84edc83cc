// The CA that comes with a service account token. Every pod a cluster dumps (`kubectl get pod -o
// yaml`) has a kube-api-access-* projected volume: a serviceAccountToken source, the
// `kube-root-ca.crt` ConfigMap (which a cluster's API server publishes in every namespace) and the
// namespace. The token is warned about and not issued (tiers.ts); its CA, in that same volume, is
// warned about and dropped too: no host has that ConfigMap, and waiting for it would keep the pod
// from ever starting. Without a token beside it, `kube-root-ca.crt` is a ConfigMap like any other
// (the folder may define it). Runs before the tier table drops the token. Pure: rewrites the value
// it is given (a fresh toJS copy).
import type { Document, LineCounter } from 'yaml';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { isObj } from './plain.js';
import { keyAt } from './tier-check.js';

const CA = 'kube-root-ca.crt';

export function dropTokenCa(doc: Document, value: unknown, lc: LineCounter, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const spec = isObj(value) ? value.spec : undefined;
  const volumes = isObj(spec) && Array.isArray(spec.volumes) ? spec.volumes : [];
  for (const [i, v] of volumes.entries()) {
    const sources = isObj(v) && isObj(v.projected) ? v.projected.sources : undefined;
    if (!Array.isArray(sources) || !sources.some((s) => isObj(s) && 'serviceAccountToken' in s)) continue;
    for (const [j, s] of sources.entries()) {
      if (!isObj(s) || !isObj(s.configMap) || s.configMap.name !== CA) continue;
      const path = ['spec', 'volumes', i, 'projected', 'sources', j, 'configMap'];
      out.push(
        keyAt(
          doc,
          lc,
          file,
          path,
        )(
          'WARN_MANIFEST_IGNORED',
          `${path.join('.')} ${CA} is ignored: a cluster's API server publishes it, the CA for the service account token that is not issued: its file is not written`,
        ),
      );
      delete s.configMap;
    }
  }
  return out;
}
