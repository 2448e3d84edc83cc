// Resource quantities as users write them: the Kubernetes quantity grammar (apimachinery
// resource.Quantity: `128Mi`, `1e3`, `0.5Gi`, `100M`, `1.5`, `+1`, `.5`, `500m`), converted exactly
// (BigInt, never a float) and rounded up as Kubernetes does (`128m` of memory is 0.128 bytes: 1 byte),
// then held to what the host can enforce. QUANTITY_PATTERN is the one source of the grammar:
// schemas/pod.schema.json carries the same string (test/unit/quantity.test.ts keeps them equal).
// Counts (`--pids`, seconds) are plain positive integers. Pure.
import { BerthError } from '../lib/errors.js';

/**
 * `<sign>? <digits>(.<digits>?)? | .<digits>` then a binary suffix (Ki … Ei), a decimal one
 * (n u m "" k M G T P E) or a decimal exponent `e`/`E` with an integer (as the apimachinery parser
 * reads it; `1E` alone is exa, `1e` alone is nothing).
 */
export const QUANTITY_PATTERN =
  '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$';
const GRAMMAR = new RegExp(QUANTITY_PATTERN);

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** sign × digits × 10^exp10 × 2^pow2, exactly. */
export interface Quantity {
  negative: boolean;
  digits: bigint;
  exp10: number;
  pow2: number;
}

/**
 * Below this a container cannot start: runc's own init is charged 1.9–2.8 MiB before the limit is
 * set (measured on runc 1.1.5: a 1 MiB limit fails "unable to set memory limit … current usage
 * 2.3 MiB"), so berth keeps Docker's floor.
 */
export const MIN_MEMORY_BYTES = 6 * 2 ** 20;
/** Bytes are kept exactly as a JS number: 8 PiB. */
export const MAX_MEMORY_BYTES = Number.MAX_SAFE_INTEGER;
/** The kernel refuses a CFS quota above 2^44−1 µs; berth's period is 100 ms (runtime/spec.ts). */
export const MAX_MILLI_CPUS = Math.floor((2 ** 44 - 1) / 100);

function bad(what: string, text: string, why: string): BerthError {
  return new BerthError('ERR_BAD_QUANTITY', 'invalid', `${what} "${text}" ${why}`);
}

/** Whether `text` is a quantity (the schema's pattern, the same RegExp). */
export function isQuantity(text: string): boolean {
  return GRAMMAR.test(text);
}

/** A quantity's exact value; throws ERR_BAD_QUANTITY when `text` is not in the grammar. */
export function parseQuantity(text: string, what = 'quantity', example = '64Mi, 1G or 0.5'): Quantity {
  if (!GRAMMAR.test(text)) throw bad(what, text, `is not a quantity (e.g. ${example})`);
  const negative = text.startsWith('-');
  const body = /^[+-]/.test(text) ? text.slice(1) : text;
  const number = /^[0-9.]*/.exec(body)?.[0] ?? '';
  const suffix = body.slice(number.length);
  const [int = '', frac = ''] = number.split('.');
  let exp10 = -frac.length;
  let pow2 = 0;
  if (suffix in BINARY) pow2 = BINARY[suffix] as number;
  else if (suffix in DECIMAL) exp10 += DECIMAL[suffix] as number;
  else exp10 += Math.max(-1e6, Math.min(1e6, Number(suffix.slice(1)))); // e/E: bounded, the size check decides
  const all = `${int}${frac}`.replace(/^0+/, '');
  // More digits than any limit needs: keep 30 and round the rest up (a ceiling stays a ceiling).
  let digits = BigInt(all.slice(0, 30) || '0');
  if (all.length > 30) {
    exp10 += all.length - 30;
    if (/[1-9]/.test(all.slice(30))) digits += 1n;
  }
  return { negative, digits, exp10, pow2 };
}

/**
 * ⌈|q| × 10^scale⌉ exactly (Kubernetes rounds every fraction up: Quantity.Value() for scale 0), or
 * undefined when it is 10^19 or more (past any int64).
 */
export function ceilScaledExact(q: Quantity, scale: number): bigint | undefined {
  if (q.digits === 0n) return 0n;
  const e = q.exp10 + scale;
  const magnitude = q.digits.toString().length + e + Math.ceil(q.pow2 * Math.log10(2));
  if (magnitude > 20) return undefined;
  if (magnitude < -20) return 1n; // non-zero, far below one unit: one unit
  const n = q.digits << BigInt(q.pow2);
  const v = e >= 0 ? n * 10n ** BigInt(e) : (n + 10n ** BigInt(-e) - 1n) / 10n ** BigInt(-e);
  return v < 10n ** 19n ? v : undefined;
}

/** ⌈|q| × 10^scale⌉ (Kubernetes rounds every fraction up); Infinity when beyond 2^53 by far. */
export function ceilScaled(q: Quantity, scale: number): number {
  const v = ceilScaledExact(q, scale);
  return v === undefined ? Number.POSITIVE_INFINITY : Number(v);
}

/** Whether 0 < |q| × 10^scale < 1, exactly. */
function isBelowOne(q: Quantity, scale: number): boolean {
  if (q.digits === 0n) return false;
  const e = q.exp10 + scale;
  const magnitude = q.digits.toString().length + e + Math.ceil(q.pow2 * Math.log10(2));
  if (magnitude > 3) return false;
  if (magnitude < -20) return true;
  return e < 0 && q.digits << BigInt(q.pow2) < 10n ** BigInt(-e);
}

/** A memory limit in bytes: at least MIN_MEMORY_BYTES (a smaller one would stop every start). */
export function parseBytes(text: string, what = 'memory'): number {
  const q = parseQuantity(text, what, '64Mi, 1G or 1048576');
  if (q.negative && q.digits !== 0n) throw bad(what, text, 'is negative');
  const bytes = ceilScaled(q, 0);
  if (bytes === 0) throw bad(what, text, 'is 0: leave the limit out for none');
  if (bytes < MIN_MEMORY_BYTES) {
    throw bad(
      what,
      text,
      `is ${bytes} byte(s): below berth's floor of 6Mi (runc itself needs about 3 MiB to start a container)`,
    );
  }
  if (bytes > MAX_MEMORY_BYTES)
    throw bad(what, text, 'is above 8Pi (2^53 − 1 bytes), the largest limit berth sets');
  return bytes;
}

/**
 * CPU in thousandths of a core, rounded up. 0 is refused (no CPU time at all, which no quota can
 * express: leave the limit out for none), and so is anything finer than 1m, the smallest CPU unit
 * of Kubernetes and of berth (`0.0001` is most likely a slip for `100m`).
 */
export function parseMilliCpus(text: string, what = 'cpus'): number {
  const q = parseQuantity(text, what, '0.5 or 500m');
  if (q.negative && q.digits !== 0n) throw bad(what, text, 'is negative');
  if (q.digits === 0n) throw bad(what, text, 'is 0: leave the limit out for none');
  if (isBelowOne(q, 3)) throw bad(what, text, 'is less than 1m, the smallest CPU unit');
  const milli = ceilScaled(q, 3);
  if (milli > MAX_MILLI_CPUS)
    throw bad(what, text, `is above ${MAX_MILLI_CPUS}m, the largest CPU quota the kernel takes`);
  return milli;
}

/** A quantity that is only checked (a request berth does not use): in the grammar, not negative. */
export function checkQuantity(text: string, what: string): void {
  const q = parseQuantity(text, what);
  if (q.negative && q.digits !== 0n) throw bad(what, text, 'is negative');
}

export function parseCount(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text.trim()) || Number(text) <= 0) throw bad(what, text, 'is not a count (e.g. 100)');
  return Number(text);
}
