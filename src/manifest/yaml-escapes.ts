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

/**
 * Where each line starts, for {@link lineAndColumn}: built once per file, so placing every escape
 * is a binary search, not a re-count of all the text before it (a file of many escapes stays linear).
 */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** The 1-based line and column of an offset, from the file's line starts. */
function lineAndColumn(starts: number[], offset: number): { line: number; col: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, col: offset - (starts[lo] as number) + 1 };
}

/** How many of the ascending `sorted` are at most `x`. */
function countAtMost(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Escapes warned one by one; the rest of a file's share one warning, so the list stays readable. */
export const ESCAPE_WARNINGS_SHOWN = 20;

/**
 * A warning at each escape, positioned in the text as written: the first {@link ESCAPE_WARNINGS_SHOWN},
 * then one at the next that counts the others.
 */
export function quoteEscapeWarnings(text: string, offsets: number[], file: string): Diagnostic[] {
  const starts = lineStarts(text);
  const out: Diagnostic[] = offsets.slice(0, ESCAPE_WARNINGS_SHOWN).map((o) => ({
    file,
    ...lineAndColumn(starts, o),
    code: 'WARN_YAML_ESCAPE',
    message: `\\' in a double-quoted string is read as ' (as Kubernetes reads it); YAML 1.2 has no such escape: write ' alone`,
  }));
  const more = offsets.length - ESCAPE_WARNINGS_SHOWN;
  if (more > 0)
    out.push({
      file,
      ...lineAndColumn(starts, offsets[ESCAPE_WARNINGS_SHOWN] as number),
      code: 'WARN_YAML_ESCAPE',
      message: `and ${more} more \\' in double-quoted strings from here on, each read as ' in the same way`,
    });
  return out;
}

/**
 * A diagnostic of the text read without the escapes, at its column in the text as written: each
 * backslash dropped before it on its line puts it one column further right.
 */
export function atWrittenColumn(text: string, offsets: number[]): (d: Diagnostic) => Diagnostic {
  // Per line, the columns (in the text read without the escapes) of the backslashes dropped there,
  // ascending as the offsets are: the escapes before one on its line are those already listed.
  const starts = lineStarts(text);
  const dropped = new Map<number, number[]>();
  for (const o of offsets) {
    const { line, col } = lineAndColumn(starts, o);
    const cols = dropped.get(line) ?? [];
    if (cols.length === 0) dropped.set(line, cols);
    cols.push(col - cols.length);
  }
  return (d) => ({ ...d, col: d.col + countAtMost(dropped.get(d.line) ?? [], d.col) });
}
