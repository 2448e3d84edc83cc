// Reaching the daemon from the CLI: one request over the unix socket. No daemon (no socket, or a
// stale one that refuses connections) is `undefined`, so the caller works on the store directly;
// an error the daemon reports comes back as the same coded error; silence past the timeout is one.
import { join } from 'node:path';
import { BerthError, errnoCode, isErrorKind } from '../lib/errors.js';
import { exchange, parseResponse } from './exchange.js';

export const socketPath = (state: string) => join(state, 'berth.sock');

/** Another daemon serves this --state (`pid` when it answered). */
export function daemonRunning(socketPath: string, pid?: number): BerthError {
  return new BerthError(
    'ERR_DAEMON_RUNNING',
    'conflict',
    `a berth daemon${pid ? ` (pid ${pid})` : ''} already serves ${socketPath}`,
    { hint: 'one daemon per --state directory' },
  );
}

/** The daemon went (stopped, killed) with a request of `path` under way: what it did is not known. */
export function daemonGone(socketPath: string, path: string): BerthError {
  return new BerthError(
    'ERR_DAEMON_GONE',
    'unavailable',
    `the daemon at ${socketPath} went without answering ${path}`,
    { hint: 'see what it did (berth container ls, berth ps), and run the command again' },
  );
}

/**
 * The daemon closed the connection at once, before reading the request (ECONNRESET, EPIPE): it was
 * at its connection bound, every connection with a request under way (connection-room.ts).
 */
export function apiBusy(socketPath: string): BerthError {
  return new BerthError(
    'ERR_API_BUSY',
    'unavailable',
    `the daemon at ${socketPath} had no room for another connection (each it serves has a request under way)`,
    { hint: 'try again in a moment; event followers (berth events) each hold a connection' },
  );
}

/** A connection the daemon reset before answering: it had no room for it. */
export const isRefusedForRoom = (err: unknown) => ['ECONNRESET', 'EPIPE'].includes(errnoCode(err) ?? '');

// ENOTDIR: --state is not a directory; no daemon listens there (the state's own check says why).
/** What connect(2) to the daemon's socket says when no daemon is there to answer. */
export const NO_DAEMON = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'ENOTDIR']);

const NOT_JSON = Symbol('not JSON');

function jsonOf(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return NOT_JSON;
  }
}

export async function callDaemon<T>(
  socketPath: string,
  method: 'GET' | 'POST',
  path: string,
  timeoutMs = 10_000,
  body?: unknown,
): Promise<T | undefined> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  let bytes: Buffer;
  try {
    bytes = await exchange({
      socketPath,
      method,
      path,
      text,
      timeoutMs,
      onTimeout: () =>
        new BerthError(
          'ERR_DAEMON_TIMEOUT',
          'unavailable',
          `the daemon at ${socketPath} did not answer ${path} in ${timeoutMs / 1000} s`,
        ),
    });
  } catch (err) {
    if (err instanceof BerthError) throw err;
    if (NO_DAEMON.has(errnoCode(err) ?? '')) return undefined;
    if (isRefusedForRoom(err)) throw apiBusy(socketPath);
    if (errnoCode(err) === 'EACCES')
      throw new BerthError(
        'ERR_FORBIDDEN',
        'forbidden',
        `the daemon's socket ${socketPath} is root's alone`,
        {
          cause: err,
          hint: 'run berth as root (sudo berth …)',
        },
      );
    throw new BerthError('ERR_API', 'unavailable', `daemon socket ${socketPath}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (bytes.length === 0) throw daemonGone(socketPath, path);
  const res = parseResponse(bytes);
  const answer = res ? jsonOf(res.body) : NOT_JSON;
  if (!res || answer === NOT_JSON) {
    throw new BerthError('ERR_API', 'internal', `the daemon answered ${path} with no JSON`);
  }
  if (res.status === 200) return answer as T;
  const e = ((answer as { error?: Record<string, unknown> } | null)?.error ?? {}) as Record<string, unknown>;
  throw errorOfBody(e, `HTTP ${res.status}`);
}

/** The coded error an error body (or a stream's error end line) carries; `fallback`: its message when it has none. */
export function errorOfBody(e: Record<string, unknown>, fallback: string): BerthError {
  return new BerthError(
    String(e.code ?? 'ERR_API'),
    isErrorKind(e.kind) ? e.kind : 'internal',
    String(e.message ?? fallback),
    e.hint ? { hint: String(e.hint) } : {},
  );
}
