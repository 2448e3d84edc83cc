// `$(VAR)` expansion in `command`, `args` and `env[].value`, ported from the kubelet
// (k8s.io/kubernetes third_party/forked/golang/expansion): `$(NAME)` becomes NAME's value when
// NAME is known and stays as written when it is not; `$$` is one `$` (so `$$(NAME)` is the text
// `$(NAME)`); a `$` before anything else, and an unclosed `$(`, are kept as they are. The one
// deliberate difference: Go walks bytes, so a `$` before a multi-byte character garbles that
// character there; here it is kept whole. And a bound: a result over MAX_EXPANDED (Linux's most
// for one argument or environment string, MAX_ARG_STRLEN) is an error as soon as it gets there, so
// sixty variables each doubling the one before cannot make the pass build a string of 2^60 bytes.
// Pure.
import { BerthError } from '../lib/errors.js';

/** The most one argument or `NAME=value` string may be for execve (32 pages: MAX_ARG_STRLEN). */
export const MAX_EXPANDED = 131_072;

const OPERATOR = '$';
const OPENER = '(';
const CLOSER = ')';

/**
 * What follows the `$` at `at`: the text to write, whether it is a variable name, and how far it
 * read. `lastClose` (the input's last `)`) keeps unclosed `$(`s from each scanning to the end.
 */
function readVariable(
  input: string,
  at: number,
  lastClose: number,
): { read: string; isVar: boolean; advance: number } {
  const first = input[at];
  if (first === OPERATOR) return { read: OPERATOR, isVar: false, advance: 1 };
  if (first === OPENER) {
    const close = at + 1 <= lastClose ? input.indexOf(CLOSER, at + 1) : -1;
    if (close >= 0) return { read: input.slice(at + 1, close), isVar: true, advance: close - at + 1 };
    return { read: OPERATOR + OPENER, isVar: false, advance: 1 };
  }
  // A lone `$` followed by something else: both are kept.
  const next = String.fromCodePoint(input.codePointAt(at) as number);
  return { read: OPERATOR + next, isVar: false, advance: next.length };
}

/**
 * `input` with every `$(NAME)` that `lookup` knows replaced; unknown ones kept as `$(NAME)`.
 * `what` names the value in the error a result over MAX_EXPANDED is (ERR_EXPANSION_TOO_LONG).
 */
export function expandVariables(
  input: string,
  lookup: (name: string) => string | undefined,
  what = 'a value',
): string {
  if (!input.includes(OPERATOR)) return input;
  const lastClose = input.lastIndexOf(CLOSER);
  const limit = Math.max(MAX_EXPANDED, input.length); // what was written as is stays a later check's
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== OPERATOR || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const { read, isVar, advance } = readVariable(input, cursor + 1, lastClose);
    out += isVar ? (lookup(read) ?? `${OPERATOR}${OPENER}${read}${CLOSER}`) : read;
    if (out.length > limit) throw tooLong(what, read);
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

function tooLong(what: string, name: string): BerthError {
  return new BerthError(
    'ERR_EXPANSION_TOO_LONG',
    'invalid',
    `${what}: expanding $(${name}) makes it longer than ${MAX_EXPANDED} characters, the most Linux passes in one argument or environment variable`,
  );
}
