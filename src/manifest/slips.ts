// Slips podman's `kube play` tolerates in a Pod and a cluster rejects: berth accepts them as podman
// does, with a WARN_MANIFEST_K8S_REJECTS at the node saying what a cluster would say, so the file
// keeps working here and its author knows why `kubectl apply` fails.
// - an unquoted number or boolean where Kubernetes wants a string (env values, labels,
//   annotations): used as written (`3000` → "3000"; `yes`, a boolean as a cluster reads it:
//   yaml11-bools.ts, → "yes");
// - a label value a cluster would refuse (backticks, `$`, `/`, over 63 characters): kept;
// - a label or annotation key that is not a qualified name (traefik's `…domains[0].main`, the
//   `bind-mount-options:/data` annotation podman itself writes): kept;
// - a capability with a `CAP_` prefix (`CAP_NET_ADMIN`): used as the same capability;
// - a port protocol in another case (`tcp`, `Udp`): podman lowercases it; used as TCP, UDP or SCTP;
// - a podman option suffix on a mountPath (`/run/x.sock:z`): the suffix is dropped (relabelling
//   means nothing without SELinux labels; use readOnly for `:ro`).
// Runs before the schema; rewrites the value it is given (a fresh toJS copy). Pure.
import { type Document, isScalar, type LineCounter } from 'yaml';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { isObj, type Obj } from './plain.js';
import { keyAt } from './tier-check.js';

type Path = Array<string | number>;

const PODMAN_SUFFIX = /:(z|Z|ro|rw|O|U|shared|rshared|slave|rslave|private|rprivate)(,(z|Z|ro|rw|O|U))*$/;
const CODE = 'WARN_MANIFEST_K8S_REJECTS';
export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const KEY_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/;
const KEY_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A DNS-1123 subdomain as IsDNS1123Subdomain reads it: at most 253 characters, no bound on a label. */
export const isDnsSubdomain = (s: unknown): boolean =>
  typeof s === 'string' && s.length <= 253 && KEY_PREFIX.test(s);

/** Why a cluster refuses `key` as a label key (a qualified name: [prefix/]name), or undefined. */
export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return "at most one '/', between a DNS subdomain prefix and a name";
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0] as string];
  if (prefix !== undefined && !isDnsSubdomain(prefix))
    return "a prefix must be a DNS subdomain: lowercase letters, digits, '-' and '.'";
  if (!KEY_NAME.test(name as string))
    return "a name must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  return undefined;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function applyPodmanSlips(doc: Document, value: unknown, lc: LineCounter, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const warnAt = (path: Path, message: string) => out.push(keyAt(doc, lc, file, path, true)(CODE, message));
  /** A non-string scalar where a string belongs: kept as its text, with a warning. */
  const stringify = (holder: Obj, key: string, path: Path, what: string) => {
    const v = holder[key];
    const node = doc.getIn(path, true);
    const text = isScalar(node) && typeof node.source === 'string' ? node.source : String(v);
    // Used as written (`1.10` stays so), but a boolean as podman's reader makes it (sigs.k8s.io/yaml
    // writes a bool at a string field as true/false: a plain `yes` is "true" there too).
    const used = typeof v === 'boolean' ? String(v) : text;
    if (typeof v === 'number' || typeof v === 'boolean') {
      holder[key] = used;
      warnAt(
        path,
        `${what} ${text} is a ${typeof v}: a cluster rejects it (quote it: "${text}"); used as "${used}"`,
      );
    }
  };
  const meta = isObj(value) ? (value as Obj).metadata : undefined;
  for (const field of ['labels', 'annotations'])
    if (isObj(meta) && isObj(meta[field]))
      for (const k of Object.keys(meta[field] as Obj))
        stringify(meta[field] as Obj, k, ['metadata', field, k], `${field.slice(0, -1)} value`);
  // Keys: a cluster lowers an annotation key before it checks it (`Example.COM/x` passes there).
  for (const field of ['labels', 'annotations'])
    for (const k of isObj(meta) && isObj(meta[field]) ? Object.keys(meta[field] as Obj) : []) {
      const why = qualifiedNameProblem(field === 'labels' ? k : k.toLowerCase());
      if (why)
        out.push(
          keyAt(doc, lc, file, ['metadata', field, k])(
            CODE,
            `${field.slice(0, -1)} key ${k === '' ? '""' : k}: a cluster rejects it (${why}); used as written`,
          ),
        );
    }
  const labels = isObj(meta) && isObj(meta.labels) ? (meta.labels as Obj) : {};
  for (const [k, v] of Object.entries(labels))
    if (typeof v === 'string' && !LABEL_VALUE.test(v))
      warnAt(
        ['metadata', 'labels', k],
        `label ${k}: a cluster rejects the value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit); used as written`,
      );
  const spec = isObj(value) ? (value as Obj).spec : undefined;
  if (!isObj(spec)) return out;
  for (const lname of ['initContainers', 'containers']) {
    for (const [i, c] of list(spec[lname]).entries()) {
      if (!isObj(c)) continue;
      const at = ['spec', lname, i];
      for (const [j, e] of list(c.env).entries())
        if (isObj(e) && 'value' in e) stringify(e, 'value', [...at, 'env', j, 'value'], 'env value');
      for (const [k, port] of list(c.ports).entries()) {
        const proto = isObj(port) ? port.protocol : undefined;
        const upper = typeof proto === 'string' ? proto.toUpperCase() : '';
        if (!isObj(port) || proto === upper || !PROTOCOLS.includes(upper)) continue;
        warnAt(
          [...at, 'ports', k, 'protocol'],
          `port protocol ${proto as string}: a cluster takes only TCP, UDP or SCTP (write ${upper}); used as ${upper}`,
        );
        port.protocol = upper;
      }
      const caps = isObj(c.securityContext) ? c.securityContext.capabilities : undefined;
      for (const dir of ['add', 'drop'])
        for (const [k, cap] of (isObj(caps) ? list(caps[dir]) : []).entries())
          if (typeof cap === 'string' && /^CAP_/i.test(cap))
            warnAt(
              [...at, 'securityContext', 'capabilities', dir, k],
              `capability ${cap}: a cluster rejects the CAP_ prefix (write ${cap.slice(4)}); used as ${cap.slice(4)}`,
            );
      for (const [k, m] of list(c.volumeMounts).entries()) {
        const suffix = isObj(m) && typeof m.mountPath === 'string' ? PODMAN_SUFFIX.exec(m.mountPath) : null;
        if (!suffix || !isObj(m)) continue;
        const path = (m.mountPath as string).slice(0, suffix.index);
        const ro = /(^|[:,])ro(,|$)/.test(suffix[0]);
        warnAt(
          [...at, 'volumeMounts', k, 'mountPath'],
          `mountPath ${m.mountPath as string} ends in the podman option ${suffix[0]}: a cluster rejects it (write readOnly: true for :ro); mounted at ${path}${ro ? ' read-only' : ''}, the rest ignored`,
        );
        m.mountPath = path;
        if (ro) m.readOnly = true;
      }
    }
  }
  return out;
}
