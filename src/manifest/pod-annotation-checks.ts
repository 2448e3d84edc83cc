// The annotations a cluster reads on a Pod and checks (ValidatePodSpecificAnnotations in
// Kubernetes' validation.go), refused here as there: the mirror pod annotation without a
// spec.nodeName; a pod-deletion-cost that is no 32-bit integer (written as Go's ParseInt reads it,
// no '+' and no leading zero); a seccomp annotation (pod or container) that is no profile a cluster
// knows; an AppArmor annotation for a container the pod does not have, or with no profile name a
// cluster knows. berth itself ignores them (checks.ts warns of the security ones). Runs before the
// tiers drop spec.nodeName, on the value as read (nothing is assumed of its types). Pure.
import type { Document, LineCounter } from 'yaml';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { isObj, podParts } from './plain.js';
import { keyAt } from './tier-check.js';

const CODE = 'ERR_MANIFEST_INVALID';
const MIRROR = 'kubernetes.io/config.mirror';
const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
const SECCOMP_POD = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER = 'container.seccomp.security.alpha.kubernetes.io/';
const APPARMOR_CONTAINER = 'container.apparmor.security.beta.kubernetes.io/';

/** Whether `v` is an int32 as Kubernetes reads a deletion cost: validFirstDigit, then ParseInt. */
function isDeletionCost(v: string): boolean {
  if (!/^(0|-\d+|[1-9]\d*)$/.test(v)) return false;
  const n = Number(v);
  return n >= -(2 ** 31) && n <= 2 ** 31 - 1;
}

/** Why a cluster refuses `p` as a seccomp annotation's profile, or undefined. */
function seccompProblem(p: string): string | undefined {
  if (['runtime/default', 'docker/default', 'unconfined'].includes(p)) return undefined;
  if (!p.startsWith('localhost/'))
    return 'must be runtime/default, docker/default, unconfined or localhost/<path>';
  const local = p.slice('localhost/'.length);
  if (local.startsWith('/')) return 'the localhost/ path must be relative';
  if (local.split('/').includes('..')) return "the localhost/ path must not contain '..'";
  return undefined;
}

export function checkPodAnnotations(
  doc: Document,
  value: unknown,
  lc: LineCounter,
  file: string,
): Diagnostic[] {
  const { annotations, spec } = podParts(value);
  const out: Diagnostic[] = [];
  const refuse = (key: string, message: string) =>
    out.push(
      keyAt(
        doc,
        lc,
        file,
        ['metadata', 'annotations', key],
        true,
      )(CODE, `annotation ${key}: ${message}: a cluster rejects it too`),
    );
  const names = new Set(
    ['containers', 'initContainers', 'ephemeralContainers'].flatMap((l) =>
      Array.isArray(spec[l]) ? (spec[l] as unknown[]).map((c) => (isObj(c) ? c.name : undefined)) : [],
    ),
  );
  for (const [key, raw] of Object.entries(annotations)) {
    const v = typeof raw === 'string' ? raw : typeof raw === 'number' ? String(raw) : undefined;
    if (v === undefined) continue;
    if (key === MIRROR && (typeof spec.nodeName !== 'string' || spec.nodeName === ''))
      refuse(key, 'a mirror pod (what a kubelet makes of a static pod) must set spec.nodeName');
    if (key === DELETION_COST && !isDeletionCost(v))
      refuse(key, `${JSON.stringify(v)} must be a 32-bit integer (no '+', no leading zero)`);
    const seccomp = key === SECCOMP_POD || key.startsWith(SECCOMP_CONTAINER) ? seccompProblem(v) : undefined;
    if (seccomp) refuse(key, `${JSON.stringify(v)} is not a seccomp profile: it ${seccomp}`);
    if (!key.startsWith(APPARMOR_CONTAINER)) continue;
    const container = key.slice(APPARMOR_CONTAINER.length);
    if (!names.has(container)) refuse(key, `the pod has no container ${container}`);
    if (v !== '' && v !== 'runtime/default' && v !== 'unconfined' && !v.startsWith('localhost/'))
      refuse(
        key,
        `${JSON.stringify(v)} is not an AppArmor profile: it must be runtime/default, unconfined or localhost/<name>`,
      );
  }
  return out;
}
