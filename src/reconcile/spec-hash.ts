// What identifies a container's desired spec, and what changed between two of them. The canonical
// form (keys sorted) is stored in the container's annotations; its hash decides "recreate", and a
// field-by-field comparison says why ("env MODE changed", "image digest changed"). Pure.
import { createHash } from 'node:crypto';
import type { LifecycleHooks } from '../health/probe-spec.js';
import { isObject } from '../oci/descriptor.js';
import type { DesiredContainer } from './desired.js';

export interface CanonicalSpec {
  image: string;
  digest: string;
  init: boolean;
  settings: Record<string, unknown>;
  /** Values from ConfigMaps and Secrets: label → digest (absent when none, so older hashes hold). */
  sources?: Record<string, string>;
  /** Its postStart and preStop hooks (absent when none, so older hashes hold): preStop is read from here at a stop. */
  lifecycle?: LifecycleHooks;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/**
 * An env value taken whole from a ConfigMap or Secret is kept as its source's label, its value only
 * as the source's digest: the spec (stored in the container's annotations, hashed, compared for
 * `plan`) never holds a Secret's value, and a change reads "Secret db key password changed".
 */
function withoutSourcedValues(c: DesiredContainer): Record<string, unknown> {
  const sourced = c.sourced ?? {};
  if (Object.keys(sourced).length === 0) return c.settings as unknown as Record<string, unknown>;
  const env = (c.settings.env ?? []).map((kv) => {
    const name = kv.slice(0, kv.indexOf('='));
    // Own keys only: an env named `constructor` or `__proto__` is a name like any other.
    return Object.hasOwn(sourced, name) ? `${name}=<${sourced[name]}>` : kv;
  });
  return { ...c.settings, env };
}

export function canonicalSpec(c: DesiredContainer, digest: string): CanonicalSpec {
  const settings = withoutSourcedValues(c);
  return sortKeys({
    image: c.image,
    digest,
    init: c.init,
    settings,
    ...(c.sources && Object.keys(c.sources).length > 0 ? { sources: c.sources } : {}),
    ...(c.lifecycle ? { lifecycle: c.lifecycle } : {}),
  }) as CanonicalSpec;
}

/**
 * A container's stored spec (its `berth.dev/spec` annotation); none when missing, unreadable or of
 * another shape (JSON that is no object, or whose `settings` is none: an annotation cut short or
 * edited), which its readers take as "spec changed", the container made again as a changed one is.
 */
export function parseStoredSpec(text: string | undefined): CanonicalSpec | undefined {
  let spec: unknown;
  try {
    spec = JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
  return isObject(spec) && isObject(spec.settings) ? (spec as unknown as CanonicalSpec) : undefined;
}

export function specHash(spec: CanonicalSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

/** Hashes of desired containers, by the container object (desired-memo.ts hands out the same one while nothing changed). */
const hashes = new WeakMap<DesiredContainer, { digest: string; hash: string; error?: unknown }>();

/**
 * specHash(canonicalSpec(c, digest)), computed once per desired container and digest: every pass
 * compares every container's hash, and an unchanged pod is the same object pass after pass. A built
 * container is never modified (a change builds a new one), so the object and the digest are its inputs.
 */
export function desiredSpecHash(c: DesiredContainer, digest: string): string {
  const memo = hashes.get(c);
  if (memo?.digest === digest) {
    if (memo.error !== undefined) throw memo.error;
    return memo.hash;
  }
  try {
    const hash = specHash(canonicalSpec(c, digest));
    hashes.set(c, { digest, hash });
    return hash;
  } catch (err) {
    // A spec too big to serialise (V8's longest string) costs its whole size each time it is tried:
    // the same container fails again at once, every pass, until its manifest changes.
    hashes.set(c, { digest, hash: '', error: err });
    throw err;
  }
}

function envMap(env: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of Array.isArray(env) ? env : []) {
    if (typeof kv !== 'string') continue; // a stored spec edited by hand: no words for it
    const eq = kv.indexOf('=');
    out.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return out;
}

/** People's words for what differs: "env MODE changed", "image digest changed", "command changed". */
export function describeChanges(before: CanonicalSpec, after: CanonicalSpec): string[] {
  const out: string[] = [];
  if (before.image !== after.image) out.push(`image ${before.image} → ${after.image}`);
  else if (before.digest !== after.digest) out.push('image digest changed');
  const was = before.sources ?? {};
  const now = after.sources ?? {};
  for (const label of [...new Set([...Object.keys(was), ...Object.keys(now)])].sort()) {
    if (was[label] === now[label]) continue;
    out.push(
      `${label} ${was[label] === undefined ? 'added' : now[label] === undefined ? 'removed' : 'changed'}`,
    );
  }
  if (JSON.stringify(before.lifecycle) !== JSON.stringify(after.lifecycle)) out.push('lifecycle changed');
  const keys = new Set([...Object.keys(before.settings), ...Object.keys(after.settings)]);
  for (const k of [...keys].sort()) {
    const a = before.settings[k];
    const b = after.settings[k];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    if (k === 'env') {
      const ea = envMap(a);
      const eb = envMap(b);
      for (const name of new Set([...ea.keys(), ...eb.keys()])) {
        if (!ea.has(name)) out.push(`env ${name} added`);
        else if (!eb.has(name)) out.push(`env ${name} removed`);
        else if (ea.get(name) !== eb.get(name)) out.push(`env ${name} changed`);
      }
    } else out.push(`${k} changed`);
  }
  return out.length > 0 ? out : ['spec changed'];
}
