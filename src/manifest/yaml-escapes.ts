// `\'` inside a double-quoted string: no escape in YAML 1.2 (the `yaml` package refuses it), but
// libyaml and go-yaml read it as `'` (go-yaml v2's scannerc.go: `case '\'': s = append(s, '\'')`),
// so Kubernetes (sigs.k8s.io/yaml) takes it, and the Kubernetes docs' own examples write it
// (pods/inject/envars-file-container.yaml). Only escapes the parser itself found bad are changed:
// a `\\'` (an escaped backslash, then a quote) or a `\'` in a single-quoted or plain scalar, a
// comment or a block scalar is left as written. Pure.
import type { Document } from 'yaml';
import type { Diagnostic } from '../lib/yaml-validate.js';

const QUOTE_ESCAPE = "\\'";

/** Where the parser refused a `\'` escape (the backslash's offset), in source order. */
export function quoteEscapes(text: string, docs: Document.Parsed[]): number[] {
  return docs
    .flatMap((d) => d.errors)
    .filter((e) => e.code === 'BAD_DQ_ESCAPE' && text.slice(e.pos[0], e.pos[0] + 2) === QUOTE_ESCAPE)
    .map((e) => e.pos[0])
    .sort((a, b) => a - b);
}

/** The text with the backslash of each of those escapes dropped (`\'` read as `'`). */
export function withoutQuoteEscapes(text: string, offsets: number[]): string {
  let out = '';
  let from = 0;
  for (const o of offsets) {
    out += text.slice(from, o);
    from = o + 1;
  }
  return out + text.slice(from);
}

/** A warning at each escape, positioned in the text as written. */
export function quoteEscapeWarnings(text: string, offsets: number[], file: string): Diagnostic[] {
  return offsets.map((o) => ({
    file,
    line: text.slice(0, o).split('\n').length,
    col: o - text.lastIndexOf('\n', o - 1),
    code: 'WARN_YAML_ESCAPE',
    message: `\\' in a double-quoted string is read as ' (as Kubernetes reads it); YAML 1.2 has no such escape: write ' alone`,
  }));
}

/**
 * A diagnostic of the text read without the escapes, at its column in the text as written: each
 * backslash dropped before it on its line puts it one column further right.
 */
export function atWrittenColumn(text: string, offsets: number[]): (d: Diagnostic) => Diagnostic {
  const dropped: Array<{ line: number; col: number }> = [];
  for (const o of offsets) {
    const line = text.slice(0, o).split('\n').length;
    const earlier = dropped.filter((e) => e.line === line).length;
    dropped.push({ line, col: o - text.lastIndexOf('\n', o - 1) - earlier });
  }
  return (d) => ({ ...d, col: d.col + dropped.filter((e) => e.line === d.line && e.col <= d.col).length });
}
