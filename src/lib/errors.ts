// Coded errors. Every failure berth reports carries a stable `code` (for people, scripts and
// tests) and a `kind` that decides retry, HTTP status and exit code. `cause` keeps the chain.
import { printable } from './printable.js';

export type ErrorKind =
  | 'invalid' // bad input: fix it and try again; never retried
  | 'not-found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'integrity' // content did not match what was promised (digest, size, media type)
  | 'limit' // a configured bound was exceeded
  | 'unavailable' // transient: network, 5xx, 429, timeouts; retried with back-off
  | 'internal';

export interface BerthErrorOptions {
  cause?: unknown;
  hint?: string;
  /**
   * An error made of several problems, each a whole line with its own position and code
   * (`file:line:col: CODE: message`): shown one line each, without the code again in front.
   */
  lines?: string[];
}

export class BerthError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly lines: string[] | undefined;

  constructor(code: string, kind: ErrorKind, message: string, options: BerthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BerthError';
    this.code = code;
    this.kind = kind;
    this.hint = options.hint;
    this.lines = options.lines?.length ? options.lines : undefined;
  }
}

export function isBerthError(err: unknown): err is BerthError {
  return err instanceof BerthError;
}

export function hasCode(err: unknown, code: string): boolean {
  return isBerthError(err) && err.code === code;
}

/** Transient failures worth another attempt. */
export function isRetryable(err: unknown): boolean {
  return isBerthError(err) && err.kind === 'unavailable';
}

const EXIT_CODES: Record<ErrorKind, number> = {
  invalid: 2,
  'not-found': 3,
  conflict: 4,
  unauthorized: 5,
  forbidden: 5,
  integrity: 6,
  limit: 7,
  unavailable: 8,
  internal: 1,
};

/** One of the kinds above (a kind read from elsewhere, such as the daemon's answer). */
export function isErrorKind(kind: unknown): kind is ErrorKind {
  return typeof kind === 'string' && Object.hasOwn(EXIT_CODES, kind);
}

export function exitCodeFor(err: unknown): number {
  const e = readOnlyOf(err) ?? err;
  return isBerthError(e) ? EXIT_CODES[e.kind] : 1;
}

/**
 * ERR_READ_ONLY: `path` is on a read-only file system (an SD card the kernel remounted read-only
 * after an I/O error, a root mounted ro): said as such wherever a write met it, never as a lock
 * someone holds or a bare EROFS.
 */
export function readOnlyError(path: string, cause?: unknown): BerthError {
  return new BerthError('ERR_READ_ONLY', 'unavailable', `${path} is on a read-only file system`, {
    cause,
    hint: 'remount it read-write once it is checked: mount -o remount,rw MOUNTPOINT',
  });
}

/** Why a store cannot be made or written at `root`: its file system read-only, or the errno. */
export function unwritableStore(root: string, err: unknown): string {
  const code = errnoCode(err);
  return code === 'EROFS'
    ? `the store at ${root} is on a read-only file system (EROFS)`
    : `cannot create the store at ${root}: ${code ?? err}`;
}

/** An EROFS from Node's fs (which names its path) as ERR_READ_ONLY; else undefined. */
function readOnlyOf(err: unknown): BerthError | undefined {
  if (isBerthError(err) || errnoCode(err) !== 'EROFS') return undefined;
  const path = (err as NodeJS.ErrnoException).path;
  return typeof path === 'string' ? readOnlyError(path, err) : undefined;
}

/** The exit code of errors of `kind` (an outcome that is no error, told as one of the kinds). */
export function exitCodeOfKind(kind: ErrorKind): number {
  return EXIT_CODES[kind];
}

/** One line for a terminal: `CODE: message (hint)`; unknown errors keep their message. */
export function formatErrorLine(err: unknown): string {
  return printable(errorLine(err));
}

function errorLine(err: unknown): string {
  if (isBerthError(err) && err.lines) {
    const more = err.lines.length - 1;
    return `${err.lines[0]}${more > 0 ? ` (and ${more} more problem${more > 1 ? 's' : ''})` : ''}`;
  }
  if (isBerthError(err)) {
    const hint = err.hint ? ` (${err.hint})` : '';
    return `${err.code}: ${err.message}${hint}`;
  }
  const ro = readOnlyOf(err);
  if (ro) return errorLine(ro);
  if (err instanceof Error) return `ERR_INTERNAL: ${err.message}`;
  return `ERR_INTERNAL: ${String(err)}`;
}

/** For a terminal: one line per problem (formatErrorLine's, or each of an error's `lines`). */
export function formatErrorLines(err: unknown): string[] {
  if (isBerthError(err) && err.lines) {
    const hint = err.hint ? [`(${err.hint})`] : [];
    return [...err.lines, ...hint].map(printable);
  }
  return [formatErrorLine(err)];
}

/** The errno code of a Node system error, if any. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
