// Serving the API on a unix socket: routes in, JSON out, coded errors with a status from their
// kind. Refuses to start when another daemon answers on the socket; replaces a stale one.
// Invariant: no request can stop or block the daemon. The handler never rejects (every failure is
// an answer), and each request is bounded in size, time and number (limits.ts).
import { chmod, mkdtemp, rename, rm, unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { BerthError, type ErrorKind, isBerthError } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { callDaemon, daemonRunning } from './client.js';
import { bodyArriving, keepConnectionRoom } from './connection-room.js';
import { type ApiLimits, DEFAULT_API_LIMITS, routePathOf, serverOptionsOf } from './limits.js';
import { admitRequest } from './pipelining.js';
import { answerRefusals } from './refusals.js';
import { dropIfUnread, errorBodyOf, StreamResponse, sendSpecial } from './responses.js';
import { type SocketAddress, socketAddress } from './socket-address.js';
import { type StreamBudget, streamBudget } from './stream-budget.js';

export interface RouteRequest {
  /** The request target's parameters (`?since=10m`). */
  query: URLSearchParams;
  /**
   * The request body as JSON (undefined when empty). Read whole before the route runs, within
   * `maxBodyBytes`; bad JSON is a 400 (ERR_API_BAD_BODY) raised here, for the routes that read it.
   */
  body(): unknown;
  /** Aborts when the client goes (a stream's end). */
  signal: AbortSignal;
}

/** A value to send as JSON, or a TextResponse/StreamResponse (responses.ts). */
export type Route = (req: RouteRequest) => Promise<unknown>;
/** `GET /v1/pods` → handler. */
export type Routes = Record<string, Route>;

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  integrity: 422,
  limit: 429,
  internal: 500,
  unavailable: 503,
};

function send(res: ServerResponse, status: number, body: unknown, close = false): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown, status?: number, close = false): void {
  const e = isBerthError(err) ? err : new BerthError('ERR_INTERNAL', 'internal', String(err));
  send(res, status ?? STATUS[e.kind], errorBodyOf(e), close);
}

/**
 * Read the whole body before the route runs, so a request is answered once and deterministically.
 * Undefined (answered 413, connection closed) past `max` bytes, declared or sent, or when the
 * client went mid-body.
 */
function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<Buffer | undefined> {
  const tooLarge = () => {
    const msg = `request body over ${max} bytes`;
    sendError(res, new BerthError('ERR_API_BODY_TOO_LARGE', 'limit', msg), 413, true);
    res.on('finish', () => req.destroy());
  };
  if (Number(req.headers['content-length'] ?? 0) > max) {
    tooLarge();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let seen = 0;
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen <= max) chunks.push(chunk);
      else if (!res.headersSent) {
        tooLarge();
        resolve(undefined);
      }
    });
    req.on('end', () => resolve(seen <= max ? Buffer.concat(chunks) : undefined));
    // A client gone mid-body is not the daemon's error; requestTimeout bounds one that stalls.
    req.on('error', () => resolve(undefined));
    req.on('close', () => resolve(undefined));
  });
}

/** The body as JSON, parsed when a route asks: empty is undefined, anything else not JSON a 400. */
function jsonBody(bytes: Buffer): () => unknown {
  return () => {
    if (bytes.length === 0) return undefined;
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new BerthError('ERR_API_BAD_BODY', 'invalid', 'the request body is not JSON');
    }
  };
}

async function handle(
  routes: Routes,
  limits: ApiLimits,
  streams: StreamBudget,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const received = bodyArriving(req.socket);
  const bytes = await readBody(req, res, limits.maxBodyBytes).finally(received);
  if (!bytes) return;
  const target = req.url ?? '/';
  if (Buffer.byteLength(target) > limits.maxUrlBytes) {
    const msg = `request target over ${limits.maxUrlBytes} bytes`;
    return sendError(res, new BerthError('ERR_API_URL_TOO_LONG', 'invalid', msg), 414);
  }
  const path = routePathOf(target);
  const route = Object.hasOwn(routes, `${req.method} ${path}`) ? routes[`${req.method} ${path}`] : undefined;
  if (!route) {
    const shown = JSON.stringify(path).slice(1, -1);
    return sendError(
      res,
      new BerthError('ERR_API_NOT_FOUND', 'not-found', `no route ${req.method} ${shown}`),
    );
  }
  const gone = new AbortController();
  res.on('close', () => gone.abort());
  const q = target.indexOf('?');
  const query = new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
  const body = await route({ query, body: jsonBody(bytes), signal: gone.signal });
  const busy = body instanceof StreamResponse ? streams.admit(res) : undefined;
  if (busy) return sendError(res, busy, undefined, true);
  if (!(await sendSpecial(res, body, gone.signal, limits))) send(res, 200, body);
  dropIfUnread(res, limits.answerStallMs);
}

export interface ApiServer {
  close(): Promise<void>;
}

export async function serveApi(
  socketPath: string,
  routes: Routes,
  limits: Partial<ApiLimits> = {},
): Promise<ApiServer> {
  const l: ApiLimits = { ...DEFAULT_API_LIMITS, ...limits };
  const other = await callDaemon<{ pid: number }>(socketPath, 'GET', '/v1/status').catch(() => ({ pid: 0 }));
  if (other) throw daemonRunning(socketPath, other.pid);
  await makeDirs(dirname(socketPath), 0o700);
  await unlink(socketPath).catch(() => undefined); // stale: its daemon died without closing it
  const { createServer } = await import('node:http'); // see client.ts
  const streams = streamBudget(l.maxStreams);
  const server = createServer(serverOptionsOf(l), (req, res) => {
    if (!admitRequest(req, res, l.maxPendingPerConnection)) return;
    handle(routes, l, streams, req, res).catch((err: unknown) => {
      try {
        sendError(res, err);
      } catch {
        res.destroy();
      }
    });
  });
  keepConnectionRoom(server, l.maxConnections);
  server.on('clientError', answerRefusals(l));
  // Bound in a directory of root's alone and made 0600 there, then renamed into place: bound where
  // it stays, a local user's connect() could get in before the chmod, and keep its connection.
  const hidden = await mkdtemp(join(dirname(socketPath), '.binding-'));
  const bound = join(hidden, 'sock');
  // A path past sun_path is bound through its directory's descriptor (socket-address.ts), kept open
  // while the server is: libuv unlinks the address it bound as the server closes, and a number
  // closed before that could name another directory by then.
  let at: SocketAddress | undefined;
  try {
    at = socketAddress(bound);
    const address = at.address;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address, () => resolve());
    });
    await chmod(bound, 0o600);
    await rename(bound, socketPath);
  } catch (err) {
    // A server left listening would hold the address, and its directory's descriptor, for good.
    await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    at?.release();
    throw err;
  } finally {
    await rm(hidden, { recursive: true, force: true });
  }
  return {
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      at?.release();
      await unlink(socketPath).catch(() => undefined);
    },
  };
}
