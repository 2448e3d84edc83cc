// The forms of a clusterTrustBundle projected source's name and signerName, as the API server checks
// them (validation.go's projected-source rules, with the certificates API's ValidateSignerName and
// ValidateClusterTrustBundleName): a signerName is `domain/path`, the domain at least two DNS labels,
// the path DNS subdomains joined by '.', 571 characters at most; a name without ':' is a DNS
// subdomain, one with ':' is `<signer with ':' for '/'>:<DNS subdomain>`. berth ignores the source (tiers.ts: only a cluster publishes trust bundles), so the
// document is read again, as a cluster decodes it. That name and signerName exclude each other, that a
// name takes no labelSelector, and the path's form, are the schema's. Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';
import type { PodManifest } from './kinds.js';
import { isObj } from './plain.js';
import { at, type ParsedDoc } from './position.js';

type Path = Array<string | number>;

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const isLabel = (s: string) => s.length <= 63 && DNS_LABEL.test(s);
const isSubdomain = (s: string) => s.length <= 253 && s.split('.').every((l) => DNS_LABEL.test(l));

/** Why a cluster refuses `signer` as a signer name, or undefined (certificates' ValidateSignerName). */
export function signerNameProblem(signer: string): string | undefined {
  const parts = signer.split('/');
  if (parts.length !== 2) return "must be a domain and a path, 'example.com/signer-name'";
  const [domain, path] = parts as [string, string];
  if (domain.length > 253) return 'its domain must be at most 253 characters';
  const labels = domain.split('.');
  if (!labels.every(isLabel))
    return "its domain must be DNS labels (lowercase letters, digits, '-') joined by '.'";
  if (labels.length < 2) return 'its domain must have at least two parts separated by dots';
  if (!path.split('.').every(isSubdomain))
    return "its path must be DNS subdomains (lowercase letters, digits, '-', '.') joined by '.'";
  if (signer.length > 253 + 253 + 63 + 2) return 'must be at most 571 characters';
  return undefined;
}

/** Why a cluster refuses `name` as a ClusterTrustBundle's name, or undefined. */
export function bundleNameProblem(name: string): string | undefined {
  const cut = name.lastIndexOf(':');
  const rest = cut === -1 ? name : name.slice(cut + 1);
  if (isSubdomain(rest)) return undefined;
  return cut === -1
    ? "must be a DNS subdomain (lowercase letters, digits, '-', '.'), or '<signer, ':' for '/'>:<DNS subdomain>'"
    : `must end, after its signer prefix ${name.slice(0, cut + 1)}, in a DNS subdomain (lowercase letters, digits, '-', '.')`;
}

export function checkTrustBundles(p: ParsedDoc): Diagnostic[] {
  const pod = p.value as PodManifest;
  const doc = p.doc.toJS() as unknown;
  const spec = isObj(doc) && isObj(doc.spec) ? doc.spec : {};
  const volumes = list(spec.volumes);
  const out: Diagnostic[] = [];
  const err = (path: Path, message: string) => out.push(at(p, path, 'ERR_MANIFEST_INVALID', message));
  for (const i of (pod.spec.volumes ?? []).keys()) {
    const v = volumes[i];
    const sources = isObj(v) && isObj(v.projected) ? list(v.projected.sources) : [];
    for (const [j, s] of sources.entries()) {
      const b = isObj(s) && isObj(s.clusterTrustBundle) ? s.clusterTrustBundle : undefined;
      if (b === undefined) continue;
      const here: Path = ['spec', 'volumes', i, 'projected', 'sources', j, 'clusterTrustBundle'];
      if (typeof b.name === 'string') {
        const why = bundleNameProblem(b.name);
        if (why)
          err([...here, 'name'], `clusterTrustBundle name "${b.name}" ${why} (a cluster rejects it too)`);
      } else if (typeof b.signerName === 'string') {
        const why = signerNameProblem(b.signerName);
        if (why)
          err(
            [...here, 'signerName'],
            `clusterTrustBundle signerName "${b.signerName}" ${why} (a cluster rejects it too)`,
          );
      }
    }
  }
  return out;
}
