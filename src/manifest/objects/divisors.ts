// A resourceFieldRef's divisor as a cluster reads it: validateContainerResourceDivisor compares the
// divisor's Quantity.String() — its canonical form, not the text written — with a fixed set (cpu:
// 1m, 1; the others: 1, 1k … 1E, 1Ki … 1Ei), and a zero divisor is none (the kubelet divides by 1).
// So `1000m` and `1.0` are 1, `0.001` is 1m, `divisor: "0"` (what `kubectl get -o yaml` shows for a
// divisor left out) is none, while `1024` (canonical 1024, not 1Ki) and `1e3` (1e3, not 1k) are
// refused. Canonical forms, as apimachinery writes them: a binary-suffixed value of at least 1024
// that is whole stays binary (1024Ki is 1Mi), any other stays decimal (0.5Ki is 512); text the
// parser keeps as written (`1e0`, `+1`, `1.`, `01Ki`: keptAsWritten) is compared as written. Pure.
import { isQuantity, parseQuantity } from '../../runtime/quantity.js';

const CPU = ['1m', '1'];
const OTHER = ['1', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei'];

/** The divisors a cluster takes for `resource` (limits.cpu, requests.memory, …), as written in its set. */
export const divisorsFor = (resource: string): string[] => (resource.endsWith('.cpu') ? CPU : OTHER);

/** value = num / den, exactly; undefined when far outside every divisor (|10-exponent| past 40). */
function exact(text: string): { num: bigint; den: bigint } | undefined {
  const q = parseQuantity(text);
  if (q.digits === 0n) return { num: 0n, den: 1n };
  if (q.negative || Math.abs(q.exp10) > 40) return undefined;
  const num = (q.digits << BigInt(q.pow2)) * 10n ** BigInt(Math.max(q.exp10, 0));
  return { num, den: 10n ** BigInt(Math.max(-q.exp10, 0)) };
}

const DECIMAL_EXPONENT: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_EXPONENT: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const PARTS = /^[+-]?([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE]))?$/;

/**
 * Whether ParseQuantity keeps the text as written for String() (its fast path, quantity.go): a
 * decimal value whose digits (point dropped) start with no 0, end in no 000 and whose scale is a
 * multiple of 3 (`1e0`, `+1`, `1.` kept as written, so refused as divisors); a binary one without a
 * fraction whose digits are not a multiple of 8 (`01Ki`, `+1Mi` kept).
 */
function keptAsWritten(text: string): boolean {
  const m = PARTS.exec(text);
  if (!m) return false;
  const [, num = '', denom = '', exp, binary, decimal = ''] = m;
  const shifted = num + denom;
  if (shifted.length === 0) return false;
  if (binary !== undefined) {
    const e = BINARY_EXPONENT[binary] ?? 0;
    if (denom.length > 0 || 15 - num.length - Math.floor((e * 3) / 10) - 1 < 0) return false;
    return (BigInt(shifted) & 7n) !== 0n;
  }
  const scale = (exp !== undefined ? Number(exp) : (DECIMAL_EXPONENT[decimal] ?? 0)) - denom.length;
  if (18 - shifted.length < 0 || scale < -9) return false;
  return scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
}

/** The member of the set a divisor's canonical form is, 'none' for a zero divisor, or undefined. */
export function divisorAs(resource: string, divisor: string | number): string | 'none' | undefined {
  const text = String(divisor);
  if (!isQuantity(text)) return undefined;
  const value = exact(text);
  if (!value) return undefined;
  if (value.num === 0n) return 'none';
  // Written as a string the cluster keeps as it is: compared as written.
  if (typeof divisor === 'string' && keptAsWritten(text))
    return divisorsFor(resource).includes(text) ? text : undefined;
  const is = (num: bigint, den = 1n) => value.num * den === num * value.den;
  const body = text.replace(/^[+-]/, '');
  const binary = /[KMGTPE]i$/.test(body) && !is(0n) && value.num >= 1024n * value.den;
  const whole = value.num % value.den === 0n;
  const format = binary && whole ? 'binary' : /[eE][+-]?[0-9]+$/.test(body) ? 'exponent' : 'decimal';
  const canonical = (() => {
    if (is(1n)) return '1';
    if (format === 'decimal' && is(1n, 1000n)) return '1m';
    for (const [k, suffix] of ['k', 'M', 'G', 'T', 'P', 'E'].entries())
      if (format === 'decimal' && is(1000n ** BigInt(k + 1))) return `1${suffix}`;
    for (const [k, suffix] of ['Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'].entries())
      if (format === 'binary' && is(1024n ** BigInt(k + 1))) return `1${suffix}`;
    return undefined;
  })();
  return canonical !== undefined && divisorsFor(resource).includes(canonical) ? canonical : undefined;
}
