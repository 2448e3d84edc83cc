// What one API request may cost the daemon, and how a raw request target becomes a route path.
// Every bound is here so the server cannot be held by one client: a slow client is cut off by the
// time bounds, a large one by the size bounds, many at once by the connection bound.
export interface ApiLimits {
  /** Whole request head (request line + headers), bytes: beyond it Node answers 431 and closes. */
  maxHeaderBytes: number;
  /** Request target length: beyond it, 414. */
  maxUrlBytes: number;
  /** A request body (JSON, read by the routes that take one): beyond this, 413 and the connection is closed. */
  maxBodyBytes: number;
  /** Time to receive the headers (a slowloris never finishes them): 408 and closed. */
  headersTimeoutMs: number;
  /** Time to receive the whole request. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Connections open at once; more are refused (closed at accept). */
  maxConnections: number;
  /**
   * Streamed answers (event followers) open at once; more are refused (503 ERR_API_BUSY). Below
   * `maxConnections`, so followers that read all they are sent never take every connection.
   */
  maxStreams: number;
  /** Answers pending on one connection (requests pipelined): a request beyond them closes it. */
  maxPendingPerConnection: number;
  /** How often Node checks the two request timeouts above (its default is 30 s). */
  checkIntervalMs: number;
  /** A streamed answer's bytes queued and unread by its client: beyond this, it is cut off (closed). */
  streamMaxUnreadBytes: number;
  /** An answer waiting this long for its client to read what was sent: cut off (closed). */
  answerStallMs: number;
}

export const DEFAULT_API_LIMITS: ApiLimits = {
  maxHeaderBytes: 16 * 1024,
  maxUrlBytes: 2048,
  maxBodyBytes: 64 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 64,
  maxStreams: 48,
  maxPendingPerConnection: 4,
  checkIntervalMs: 1_000,
  streamMaxUnreadBytes: 2 ** 20,
  answerStallMs: 10_000,
};

/**
 * The path of a request target (`/v1/pods?x` → `/v1/pods`). Never throws: `//`, `/%` or a target
 * that is not a path at all is just a path no route has (WHATWG URL parsing threw on `//`).
 */
/** node:http server options that enforce the limits on headers, slow clients and idle connections. */
export function serverOptionsOf(l: ApiLimits) {
  return {
    maxHeaderSize: l.maxHeaderBytes,
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    connectionsCheckingInterval: l.checkIntervalMs,
  };
}

export function routePathOf(target: string | undefined): string {
  const t = target ?? '/';
  const q = t.indexOf('?');
  return q === -1 ? t : t.slice(0, q);
}
