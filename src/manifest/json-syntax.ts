// A text that opens with `{` as kubectl 1.33+ reads it (apimachinery's YAMLOrJSONDecoder, by its
// text, never its name; a `{` after a byte order mark is YAML, as Go's unicode.IsSpace does not take
// U+FEFF): first as a stream of JSON values one after another, as encoding/json reads them
// (`kubectl … -o json >> file` makes `{…}{…}`, which YAML takes for nonsense), each value a document.
// Where a value fails as JSON (a comment, a trailing comma, single quotes: YAML a JSON reader
// refuses), the decoder turns to YAML from there, so long as at most one value came before (the text
// may still be YAML "that tastes like JSON"); past two values it is a JSON stream and the failure is
// its error, ERR_JSON_SYNTAX here. (kubectl 1.32 and older, and the kubelet's static pod files,
// refused any JSON syntax error: kubernetes#130666.) Iterative (no recursion however deep the
// nesting; parse.ts bounds it first). Pure.
import { LineCounter } from 'yaml';
import type { Diagnostic } from '../lib/yaml-validate.js';

/** Go's unicode.IsSpace: JavaScript's \s but for U+0085 (a space to Go) and U+FEFF (none to Go). */
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const JSON_START = new RegExp(`^${GO_SPACE.source}*\\{`);
const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const ESCAPES = '"\\/bfnrtu';
const HEX4 = /^[0-9a-fA-F]{4}$/;

/** Whether kubectl tries `text` as JSON first: its first character past white space is `{`. */
export const isJsonText = (text: string): boolean => JSON_START.test(text);

interface Problem {
  at: number;
  why: string;
}
type Scan = number | Problem;

/** A text opening with `{`, as the decoder reads it: its JSON values, then what follows them. */
export interface JsonStream {
  /** Where each JSON value read starts and ends. */
  values: Array<[number, number]>;
  /** Where the text turns to YAML, past the values: the decoder's reading of the rest. */
  yamlFrom?: number;
  /** A failure past two values: the stream's error. */
  problem?: Diagnostic;
}

/** `text` (isJsonText) as YAMLOrJSONDecoder reads it: JSON values while they parse, then YAML or an error. */
export function scanJsonText(text: string, file: string): JsonStream {
  const values: Array<[number, number]> = [];
  for (let i = skip(text, 0); i < text.length; i = skip(text, i)) {
    const end = scanValue(text, i);
    if (typeof end === 'number') {
      values.push([i, end]);
      i = end;
      continue;
    }
    if (values.length > 1) return { values, problem: problemAt(text, end, file) };
    // Back to where the last value ended, past white space up to and through one line end.
    let from = values.at(-1)?.[1] ?? 0;
    while (from < text.length && text[from] !== '\n' && GO_SPACE.test(text[from] as string)) from++;
    if (text[from] === '\n') from++;
    return { values, yamlFrom: from };
  }
  return { values };
}

/**
 * The slices of the text to read each alone (its JSON values, then the YAML after them), or
 * undefined where the whole text reads as the YAML it is (one value alone, or YAML from the start).
 */
export function streamSlices(json: JsonStream, length: number): Array<[number, number]> | undefined {
  if (json.values.length === 0) return undefined;
  const slices = [...json.values];
  if (json.yamlFrom !== undefined) slices.push([json.yamlFrom, length]);
  return slices.length > 1 ? slices : undefined;
}

/**
 * A line counter for a slice of the text that starts at `shift`: its offsets placed by the whole
 * text's lines (one JSON value of a stream is read alone, as its own document).
 */
export function shiftedLines(whole: LineCounter, shift: number): LineCounter {
  const lc = new LineCounter();
  lc.linePos = (offset: number) => whole.linePos(offset + shift);
  return lc;
}

/** The line counter of a whole text, as the parser would fill it. */
export function countLines(text: string): LineCounter {
  const lc = new LineCounter();
  lc.addNewLine(0);
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lc.addNewLine(i + 1);
  return lc;
}

/** encoding/json's white space: space, tab, line feed, carriage return. */
function skip(t: string, i: number): number {
  let j = i;
  while (t[j] === ' ' || t[j] === '\t' || t[j] === '\n' || t[j] === '\r') j++;
  return j;
}

const shown = (t: string, i: number) =>
  i >= t.length ? 'the end of the text' : `${JSON.stringify(t[i])}`.replace(/^"|"$/g, "'");

/** Why a character cannot open a value: the YAML-only forms people write, by name. */
function notAValue(t: string, i: number): Problem {
  const c = t[i];
  if (c === '#' || (c === '/' && (t[i + 1] === '/' || t[i + 1] === '*')))
    return { at: i, why: 'a comment, which JSON does not have' };
  if (c === "'") return { at: i, why: 'a single-quoted string (JSON quotes with ")' };
  if (c === ']' || c === '}') return { at: i, why: `a value expected before ${c} (a trailing comma?)` };
  if (i >= t.length) return { at: i, why: 'the text ends where a value was expected' };
  return {
    at: i,
    why: `invalid character ${shown(t, i)} looking for beginning of value (a bare word, NaN?)`,
  };
}

function scanString(t: string, start: number): Scan {
  for (let i = start + 1; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20)
      return { at: i, why: 'a control character in a string (a raw tab or line break: write \\t, \\n)' };
    if (c !== 0x5c) continue;
    const e = t[i + 1] ?? '';
    if (!ESCAPES.includes(e) || e === '')
      return {
        at: i,
        why: `invalid escape \\${e} in a string (JSON's are \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`,
      };
    if (e === 'u' && !HEX4.test(t.slice(i + 2, i + 6)))
      return { at: i, why: 'invalid \\u escape in a string' };
    i += e === 'u' ? 5 : 1;
  }
  return { at: start, why: 'a string that never ends' };
}

function scanScalar(t: string, i: number): Scan {
  const c = t[i];
  if (c === '"') return scanString(t, i);
  for (const word of ['true', 'false', 'null']) if (t.startsWith(word, i)) return i + word.length;
  if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
    NUMBER.lastIndex = i;
    if (NUMBER.test(t)) return NUMBER.lastIndex;
    return { at: i, why: 'invalid number' };
  }
  return notAValue(t, i);
}

/** A property name and its colon, from `i` (past white space): the index past the colon. */
function scanKey(t: string, i: number): Scan {
  if (t[i] === '}') return { at: i, why: 'a comma before } (trailing commas are not JSON)' };
  if (t[i] !== '"') {
    const p = notAValue(t, i);
    return p.why.startsWith('invalid character')
      ? { at: i, why: 'a property name must be double-quoted' }
      : p;
  }
  const end = scanString(t, i);
  if (typeof end !== 'number') return end;
  const colon = skip(t, end);
  return t[colon] === ':'
    ? colon + 1
    : { at: colon, why: `expected ':' after a property name, found ${shown(t, colon)}` };
}

/** One JSON value from `i`: the index past it. Containers are kept on a stack, not by recursion. */
function scanValue(t: string, from: number): Scan {
  const stack: Array<'{' | '['> = [];
  let i = from;
  for (;;) {
    // A value is expected at i.
    i = skip(t, i);
    const c = t[i];
    let done = true;
    if (c === '{' || c === '[') {
      i = skip(t, i + 1);
      if (t[i] === (c === '{' ? '}' : ']')) i++;
      else {
        stack.push(c);
        if (c === '{') {
          const k = scanKey(t, i);
          if (typeof k !== 'number') return k;
          i = k;
        }
        done = false;
      }
    } else {
      const end = scanScalar(t, i);
      if (typeof end !== 'number') return end;
      i = end;
    }
    // A value ended at i: close what it ends, or go on past a comma.
    while (done) {
      const top = stack.at(-1);
      if (top === undefined) return i;
      const close = top === '{' ? '}' : ']';
      i = skip(t, i);
      if (t[i] === close) {
        stack.pop();
        i++;
      } else if (t[i] === ',') {
        i = skip(t, i + 1);
        if (top === '{') {
          const k = scanKey(t, i);
          if (typeof k !== 'number') return k;
          i = k;
        }
        done = false;
      } else if (t[i] === '#' || t[i] === '/') return notAValue(t, i);
      else return { at: i, why: `expected ',' or '${close}', found ${shown(t, i)}` };
    }
  }
}

function problemAt(text: string, { at, why }: Problem, file: string): Diagnostic {
  const before = text.slice(0, at);
  return {
    file,
    line: before.split('\n').length,
    col: at - before.lastIndexOf('\n'),
    code: 'ERR_JSON_SYNTAX',
    message: `${why}: after two JSON values, kubectl reads the rest of the file as JSON and refuses it too (a stream of JSON objects is JSON throughout: no comments, trailing commas, single quotes or bare words)`,
  };
}
