// Serving the API on a unix socket: routes in, JSON out, coded errors with a status from their
// kind. Refuses to start when another daemon answers on the socket; replaces a stale one.
import { chmod, unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { BerthError, type ErrorKind, isBerthError } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { callDaemon, daemonRunning } from './client.js';

export type Route = () => Promise<unknown>;
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

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(routes: Routes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  req.resume(); // no route reads a body
  const path = new URL(req.url ?? '/', 'http://berth').pathname;
  const route = routes[`${req.method} ${path}`];
  try {
    if (!route) throw new BerthError('ERR_API_NOT_FOUND', 'not-found', `no route ${req.method} ${path}`);
    send(res, 200, await route());
  } catch (err) {
    const e = isBerthError(err) ? err : new BerthError('ERR_INTERNAL', 'internal', String(err));
    send(res, STATUS[e.kind], {
      error: { code: e.code, kind: e.kind, message: e.message, ...(e.hint ? { hint: e.hint } : {}) },
    });
  }
}

export interface ApiServer {
  close(): Promise<void>;
}

export async function serveApi(socketPath: string, routes: Routes): Promise<ApiServer> {
  const other = await callDaemon<{ pid: number }>(socketPath, 'GET', '/v1/status').catch(() => ({ pid: 0 }));
  if (other) throw daemonRunning(socketPath, other.pid);
  await makeDirs(dirname(socketPath));
  await unlink(socketPath).catch(() => undefined); // stale: its daemon died without closing it
  const { createServer } = await import('node:http'); // see client.ts
  const server = createServer((req, res) => void handle(routes, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  await chmod(socketPath, 0o600);
  return {
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await unlink(socketPath).catch(() => undefined);
    },
  };
}
