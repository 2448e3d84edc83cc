// A container's resources besides cpu and memory (ephemeral-storage, hugepages-<size>, extended
// resources such as nvidia.com/gpu), as the API server checks them (validation.go's
// ValidateResourceRequirements): berth neither counts nor gives them, so a file a cluster takes keeps
// working with a WARN_MANIFEST_IGNORED at each, but one a cluster refuses is refused here too:
// - a bare name that is no standard one (`gpu`, `storage`), or a domain name that is no qualified
//   name (`example.com/a b`);
// - an extended resource (a name with a domain outside kubernetes.io/) that is not a whole number
//   (`500m`): a device is given whole;
// - an extended resource or hugepages (neither can be overcommitted) requested without a limit, or
//   with a request other than its limit (a limit alone is its request); another (ephemeral-storage)
//   requested above its limit; any of them negative;
// - hugepages without cpu or memory beside them, or of an amount that is no whole number of pages
//   (`hugepages-2Mi: 3Mi`; a fraction of a byte rounded up first, as a cluster reads it:
//   `2.0000001Mi` is no whole number of pages, `2097151.5` is one), or of a size that is no quantity.
// Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';
import { ceilScaledExact, isQuantity, parseQuantity, type Quantity } from '../runtime/quantity.js';
import { at, type ParsedDoc } from './position.js';
import { qualifiedNameProblem } from './slips.js';

type Path = Array<string | number>;
type Values = Record<string, unknown>;

const isHugePages = (name: string) => name.startsWith('hugepages-');
/** A native resource: a bare name, or one under kubernetes.io/ (validation.go's IsNativeResource). */
const isNative = (name: string) => !name.includes('/') || name.includes('kubernetes.io/');
const isExtended = (name: string) => !isNative(name);
/** What a cluster lets a request be below its limit for: native resources but hugepages. */
const isOvercommitAllowed = (name: string) => isNative(name) && !isHugePages(name);

/** A quantity as YAML gave it, parsed; undefined when it is none (the schema says so). */
function quantityOf(v: unknown): Quantity | undefined {
  const text = typeof v === 'number' ? String(v) : v;
  if (typeof text !== 'string' || !isQuantity(text)) return undefined;
  return parseQuantity(text);
}

/** A quantity's exact value as digits × 10^exp, digits without trailing zeros (0 as 0 × 10^0). */
function reduce(q: Quantity): { negative: boolean; digits: bigint; exp: number } {
  let digits = q.digits << BigInt(q.pow2);
  let exp = digits === 0n ? 0 : q.exp10;
  while (digits !== 0n && digits % 10n === 0n) {
    digits /= 10n;
    exp += 1;
  }
  return { negative: q.negative && digits !== 0n, digits, exp };
}

const sameValue = (a: Quantity, b: Quantity) => {
  const [x, y] = [reduce(a), reduce(b)];
  return x.negative === y.negative && x.digits === y.digits && x.exp === y.exp;
};

/** Whether a ≥ 0 quantity is above another: by order of magnitude, then digit by digit. */
function isAbove(a: Quantity, b: Quantity): boolean {
  const [x, y] = [reduce(a), reduce(b)];
  if (x.digits === 0n || y.digits === 0n) return x.digits !== 0n;
  const [mx, my] = [x.digits.toString().length + x.exp, y.digits.toString().length + y.exp];
  if (mx !== my) return mx > my;
  // Same magnitude: the exponents differ by no more than the digits' lengths do.
  const low = Math.min(x.exp, y.exp);
  return x.digits * 10n ** BigInt(x.exp - low) > y.digits * 10n ** BigInt(y.exp - low);
}

/** Whether quantity `a` is above `b`, exactly (Quantity.Cmp); undefined when either is no quantity. */
export function quantityAbove(a: unknown, b: unknown): boolean | undefined {
  const [x, y] = [quantityOf(a), quantityOf(b)];
  if (x === undefined || y === undefined || x.negative || y.negative) return undefined;
  return isAbove(x, y);
}

/** Whether a quantity is a whole number (the value exactly, where Kubernetes rounds to milli first). */
const isWhole = (q: Quantity) => reduce(q).exp >= 0;

/** The exact value of a whole quantity below 2^63, else undefined. */
function wholeValue(q: Quantity): bigint | undefined {
  const { digits, exp } = reduce(q);
  if (exp < 0 || exp > 19) return undefined;
  const value = digits * 10n ** BigInt(exp);
  return value < 2n ** 63n ? value : undefined;
}

/** Why a cluster refuses `name` among a container's resources, or undefined. */
function nameProblem(name: string): string | undefined {
  if (!name.includes('/'))
    return name === 'ephemeral-storage' || isHugePages(name)
      ? undefined
      : `a container's resource is cpu, memory, ephemeral-storage, hugepages-<size> or a name with a domain (example.com/${name}), as a cluster requires`;
  // An extended resource's quota name (requests.<name>) must be a qualified name too.
  const why = isNative(name)
    ? qualifiedNameProblem(name)
    : name.startsWith('requests.')
      ? 'an extended resource name cannot start with requests.'
      : (qualifiedNameProblem(name) ?? qualifiedNameProblem(`requests.${name}`));
  return why && `a cluster rejects the name (${why})`;
}

/**
 * Why a cluster refuses `value` of hugepages `name`, or undefined. As validation.go's
 * IsHugePageResourceValueDivisible: the value in bytes rounded up (Quantity.Value(), so `1.5` is 2
 * bytes) must be a multiple of the page size; one past int64 is left to the cluster.
 */
function hugePagesProblem(name: string, value: Quantity): string | undefined {
  const sizeText = name.slice('hugepages-'.length);
  const size = isQuantity(sizeText) ? wholeValue(parseQuantity(sizeText)) : undefined;
  if (size === undefined || size <= 0n) return `${sizeText} is no page size (hugepages-2Mi, hugepages-1Gi)`;
  const bytes = ceilScaledExact(value, 0);
  if (bytes === undefined || bytes >= 2n ** 63n || bytes % size === 0n) return undefined;
  const rounded = isWhole(value) ? '' : ` (${bytes} bytes, rounded up as a cluster reads it)`;
  return `not a whole number of ${sizeText} pages${rounded}, as a cluster requires`;
}

/** Why a cluster refuses `resources.<kind>.<name>` (a valid name), or undefined. */
function valueProblem(kind: string, name: string, limits: Values, requests: Values): string | undefined {
  const given = kind === 'limits' ? limits[name] : requests[name];
  const q = quantityOf(given);
  if (q === undefined) return undefined; // the schema's diagnostic says what it is
  if (q.negative && q.digits !== 0n) return 'must not be negative (a cluster rejects it too)';
  if (isExtended(name) && !isWhole(q))
    return `${String(given)} is not a whole number: a device is given whole, as a cluster requires`;
  if (isHugePages(name)) {
    const why = hugePagesProblem(name, q);
    if (why) return `${String(given)} is ${why}`;
  }
  if (kind !== 'requests') return undefined;
  const limit = quantityOf(limits[name]);
  if (isOvercommitAllowed(name))
    return limit !== undefined && !limit.negative && isAbove(q, limit)
      ? `the request ${String(given)} is more than its limit ${String(limits[name])} (a cluster rejects it too)`
      : undefined;
  if (!(name in limits))
    return `${name} cannot be overcommitted: give a limit equal to the request, as a cluster requires`;
  return limit !== undefined && !sameValue(limit, q)
    ? `${name} cannot be overcommitted: the request ${String(given)} must equal the limit ${String(limits[name])}, as a cluster requires`
    : undefined;
}

/**
 * Diagnostics of a container's resources besides cpu and memory, one per entry (an error, else the
 * warning that berth ignores it); `res(kind, name)` is the path of `resources.<kind>.<name>`.
 */
export function checkOtherResources(
  p: ParsedDoc,
  res: (...rest: string[]) => Path,
  limits: Values,
  requests: Values,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const field = (kind: string, name: string) => res(kind, name).join('.');
  for (const [kind, values] of [
    ['limits', limits],
    ['requests', requests],
  ] as const) {
    for (const name of Object.keys(values)) {
      if (name === 'cpu' || name === 'memory') continue;
      const why = nameProblem(name) ?? valueProblem(kind, name, limits, requests);
      out.push(
        why
          ? at(p, res(kind, name), 'ERR_MANIFEST_INVALID', `${field(kind, name)}: ${why}`)
          : at(
              p,
              res(kind, name),
              'WARN_MANIFEST_IGNORED',
              `${field(kind, name)} is ignored: berth limits cpu and memory only (no ephemeral-storage accounting, hugepages or device plugins)`,
            ),
      );
    }
  }
  const first = [...Object.keys(limits), ...Object.keys(requests)].find(isHugePages);
  const kind = first !== undefined && first in limits ? 'limits' : 'requests';
  if (first !== undefined && !['cpu', 'memory'].some((n) => n in limits || n in requests))
    out.push(
      at(
        p,
        res(kind, first),
        'ERR_MANIFEST_INVALID',
        `${field(kind, first)}: hugepages need a cpu or memory request or limit beside them, as a cluster requires`,
      ),
    );
  return out;
}
