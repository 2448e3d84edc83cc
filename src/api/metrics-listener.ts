// `metrics.listen` in the host config: `GET /metrics` on a TCP address too, for a Prometheus that
// cannot reach the root-only API socket. It serves that one path (anything else is a 404) and
// nothing else of the API, with the same bounds as the socket (an answer unread for 10 s dropped too).
import type { Server } from 'node:http';
import { METRICS_CONTENT_TYPE } from '../events/metrics.js';
import { BerthError } from '../lib/errors.js';
import { keepConnectionRoom } from './connection-room.js';
import { type ApiLimits, DEFAULT_API_LIMITS, routePathOf, serverOptionsOf } from './limits.js';
import { admitRequest } from './pipelining.js';
import { dropIfUnread } from './responses.js';

/** `127.0.0.1:9101`, `[::1]:9101`, `node.lan:9101` → host and port. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || !(port >= 1 && port <= 65535))
    throw new BerthError(
      'ERR_CONFIG_INVALID',
      'invalid',
      `metrics.listen ${JSON.stringify(text)}: expected HOST:PORT`,
    );
  return { host: (m[1] ?? m[2]) as string, port };
}

export interface MetricsListener {
  /** The port bound (the one asked for, or the one the kernel chose for port 0). */
  port: number;
  close(): Promise<void>;
}

export async function serveMetrics(
  listen: string,
  render: () => Promise<string>,
  limits: Partial<ApiLimits> = {},
): Promise<MetricsListener> {
  const { host, port } = parseListenAddress(listen);
  const { createServer } = await import('node:http');
  const l: ApiLimits = { ...DEFAULT_API_LIMITS, ...limits };
  const server: Server = createServer(serverOptionsOf(l), (req, res) => {
    if (!admitRequest(req, res, l.maxPendingPerConnection)) return;
    const ok = req.method === 'GET' && routePathOf(req.url) === '/metrics';
    const answer = (status: number, body: string) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'content-type': ok && status === 200 ? METRICS_CONTENT_TYPE : 'text/plain' });
      res.end(body);
      dropIfUnread(res, l.answerStallMs); // a scraper that never reads it does not keep it, or its connection
    };
    req.resume(); // no body is read: drained, and the request timeout bounds a slow one
    if (!ok) return answer(404, 'only GET /metrics here\n');
    render().then(
      (text) => answer(200, text),
      () => answer(500, 'metrics unavailable\n'),
    );
  });
  keepConnectionRoom(server, l.maxConnections);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new BerthError('ERR_METRICS_LISTEN', 'unavailable', `metrics.listen ${listen}: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  return {
    port: typeof bound === 'object' && bound ? bound.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
