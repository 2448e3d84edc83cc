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

/**
 * The most one argument or `NAME=value` string may be for execve, its NUL included (32 pages:
 * MAX_ARG_STRLEN): an expansion stops past it (in characters), and execTotal refuses a string of more
 * bytes, as written or expanded.
 */
export const MAX_EXPANDED = 131_072;

/**
 * The most a container's argv and environment may be together, in bytes as execve counts them (each
 * string with its NUL). Linux takes 2 MiB for both (a quarter of an 8 MiB stack, the ARG_MAX most
 * systems report); half of that leaves room for what the image adds. Without it, each string under
 * MAX_EXPANDED could still be copied thousands of times over: 5000 `$(A11)`s make 650 MB.
 */
export const MAX_EXEC_TOTAL = 1_048_576;

/** The bytes execve counts for `strings` (each with its NUL). */
export const execBytes = (strings: readonly string[]): number =>
  strings.reduce((n, s) => n + Buffer.byteLength(s) + 1, 0);

/**
 * Counts a container's `NAME=value`s and arguments as they are made, and throws
 * (ERR_EXEC_TOO_LARGE) at the one that takes the total past MAX_EXEC_TOTAL: `what` names it.
 * An env name set again replaces its earlier value, as it does in the environment. `subject` says
 * whose arguments and environment they are (the container's own by default: `its …`), and
 * `startBytes` what is counted already (an exec hook's or probe's: the container's environment).
 */
export function execTotal(container: string, o: { subject?: string; startBytes?: number } = {}) {
  const env = new Map<string, number>();
  const subject = o.subject ?? 'its arguments and environment';
  let total = o.startBytes ?? 0;
  const add = (bytes: number, what: string) => {
    total += bytes;
    if (total > MAX_EXEC_TOTAL)
      throw new BerthError(
        'ERR_EXEC_TOO_LARGE',
        'invalid',
        `container ${container}: ${what} makes ${subject} more than ${MAX_EXEC_TOTAL} bytes, the most berth passes to one container (Linux takes 2 MiB for both together)`,
      );
  };
  return {
    env(name: string, value: string) {
      total -= env.get(name) ?? 0;
      const bytes = Buffer.byteLength(name) + 1 + Buffer.byteLength(value) + 1;
      env.set(name, bytes);
      checkOne(container, bytes, `env ${name}`);
      add(bytes, `env ${name}`);
    },
    arg(value: string, what: string) {
      const bytes = Buffer.byteLength(value) + 1;
      checkOne(container, bytes, what);
      add(bytes, what);
    },
  };
}

/**
 * One argument or `NAME=value` string, `bytes` with its NUL, past MAX_ARG_STRLEN: execve would refuse
 * it (E2BIG), so runc would fail at every start. As written or expanded, it is refused when the pod is
 * built, naming the container and the field (ERR_EXEC_TOO_LARGE).
 */
function checkOne(container: string, bytes: number, what: string): void {
  if (bytes > MAX_EXPANDED)
    throw new BerthError(
      'ERR_EXEC_TOO_LARGE',
      'invalid',
      `container ${container}: ${what} is ${bytes - 1} bytes, more than ${MAX_EXPANDED - 1}, the most Linux passes in one argument or environment string (MAX_ARG_STRLEN, ${MAX_EXPANDED} with its NUL; an env string is NAME=value)`,
    );
}

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
