// YAML 1.1 integers as Kubernetes reads them: sigs.k8s.io/yaml is go-yaml v2, which drops every `_`
// from a plain scalar that starts with a digit or a sign and then reads it as Go's
// strconv.ParseInt(s, 0, 64) does, else ParseUint, else as a float. So
// `terminationGracePeriodSeconds: 1_000` is 1000 there, `0b1010` is 10, `0_644` is octal 420, `0X1F`
// and `-0x1F` are 31 and -31 and `0_8` is 8, where the YAML 1.2 core schema leaves them strings and
// the schema then calls a valid file invalid; a hex, octal or binary number past 64 bits stays a
// string. A plain `0400` is octal (256) too: `defaultMode: 0400` in every Kubernetes example, which
// YAML 1.2 reads as decimal 400 (mode 0620: a Secret meant owner-only made group-writable). Only
// these forms are claimed (lower-case `0o`, `0x` and decimal without `_` read the same in both). Pure.
import type { ScalarTag, Tags } from 'yaml';

/** Go's base-0 integer syntax (either case of prefix, a sign before any of them). */
const GO_INT = /^([-+]?)(0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/;
/** go-yaml v2's float syntax, tried when ParseInt and ParseUint refuse (`08`: 8). */
const GO_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * What go-yaml v2 reads a plain scalar as once it dropped the underscores: Go's ParseInt(s, 0, 64),
 * else ParseUint, else a float; undefined when it is none (it stays a string).
 */
function goYamlNumber(text: string): number | undefined {
  const plain = text.replaceAll('_', '');
  const m = GO_INT.exec(plain);
  if (m) {
    const [, sign, digits = ''] = m;
    // BigInt reads 0b/0o/0x in either case; a leading 0 alone is octal in Go, decimal for BigInt.
    const magnitude = BigInt(/^0[0-7]/.test(digits) ? `0o${digits.slice(1)}` : digits);
    const value = sign === '-' ? -magnitude : magnitude;
    if (value >= INT64_MIN && value <= UINT64_MAX) return Number(value);
    if (!/^[0-9]/.test(digits) || /^0[bBoOxX]/.test(digits)) return undefined; // past 64 bits, no float
  }
  return GO_FLOAT.test(plain) ? Number(plain) : undefined;
}

const goInt: ScalarTag = {
  identify: () => false, // parsing only: berth never writes a number so
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'GO',
  // What YAML 1.2 reads otherwise: a `_` in a scalar that starts with a digit or a sign, a binary
  // prefix, a sign before 0o/0x, an upper-case 0O/0X, a leading 0 (octal).
  test: /^(?:[-+]?0[0-7]+|[-+]?[0-9][0-9a-zA-Z_.+-]*_[0-9a-zA-Z_.+-]*|[-+]_[0-9a-zA-Z_.+-]*|[-+]?0[bB][01_]+|[-+]0[oOxX][0-9a-fA-F_]+|0[OX][0-9a-fA-F_]+)$/,
  // What Go cannot read as a number either (`0x_`) stays the string it was written as.
  resolve: (text) => goYamlNumber(text) ?? text,
};

/** The schema's tags with go-yaml's octal, `_`-separated and binary integers tried first. */
export const withYaml11Ints = (tags: Tags): Tags => [goInt, ...tags];
