// YAML 1.1 integers as Kubernetes reads them: sigs.k8s.io/yaml is go-yaml v2, which drops every `_`
// from a plain scalar that starts with a digit or a sign and then reads it as Go's
// strconv.ParseInt(s, 0, 64) does, or as `0b…` binary. So `terminationGracePeriodSeconds: 1_000`
// is 1000 there, `0b1010` is 10 and `0_644` is octal 420, where the YAML 1.2 core schema leaves all
// three strings and the schema then calls a valid file invalid. Only these forms are added (a plain
// `0644` is yaml-octal.ts; `0o`, `0x` and decimal without `_` read the same in both). Pure.
import type { ScalarTag, Tags } from 'yaml';

/** Go's base-0 integer syntax after go-yaml dropped the underscores; undefined when it is none. */
function parseGoInt(text: string): number | undefined {
  const plain = text.replaceAll('_', '');
  const m = /^([-+]?)(0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(plain);
  if (!m) return undefined;
  const [, sign, digits = ''] = m;
  const radix = /^0[bB]/.test(digits)
    ? 2
    : /^0[oO]/.test(digits)
      ? 8
      : /^0[xX]/.test(digits)
        ? 16
        : /^0./.test(digits)
          ? 8
          : 10;
  const body = radix === 10 || (radix === 8 && !/^0[oO]/.test(digits)) ? digits : digits.slice(2);
  const value = Number.parseInt(body, radix);
  return sign === '-' ? -value : value;
}

const goInt: ScalarTag = {
  identify: () => false, // parsing only: berth never writes a number so
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'GO',
  // An underscore after the first digit, or a binary prefix: what YAML 1.2 does not read as a number.
  test: /^[-+]?(?:[0-9][0-9_]*_[0-9_]*|0[bB][01_]+|0[oOxX][0-9a-fA-F_]*_[0-9a-fA-F_]*)$/,
  // What Go cannot read as an integer either (`0x_`) stays the string it was written as.
  resolve: (text) => parseGoInt(text) ?? text,
};

/** The schema's tags with go-yaml's `_`-separated and binary integers tried first. */
export const withYaml11Ints = (tags: Tags): Tags => [goInt, ...tags];
