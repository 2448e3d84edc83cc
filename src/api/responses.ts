// Answers that are not one JSON document: a text body (`GET /metrics`, Prometheus' text format) and
// a stream of lines (`GET /v1/events`, NDJSON, until the client goes or the daemon stops). A route
// returns one of these instead of a value to send as JSON; server.ts writes it.
import type { ServerResponse } from 'node:http';
import type { BerthError } from '../lib/errors.js';

export class TextResponse {
  constructor(
    readonly contentType: string,
    readonly body: string,
  ) {}
}

/**
 * How a stream writes to its client. Whatever the client leaves unread stays in the daemon's
 * memory, so a client that does not read is cut off (its connection destroyed, the stream's
 * `signal` aborted): past `streamMaxUnreadBytes` unread, or `answerStallMs` without reading while
 * what was sent waits on it.
 */
export interface StreamWriter {
  /** The bytes its client may leave unread before it is cut off (`streamMaxUnreadBytes`). */
  readonly maxUnreadBytes: number;
  /** Queues a chunk; false when the client is gone or has just been cut off. */
  write(chunk: string): boolean;
  /** Once the client has read what was queued: true; false when it went or was cut off instead. */
  drained(): Promise<boolean>;
}

/** An API error's body: `{ "error": { code, kind, message, hint? } }`. */
export function errorBodyOf(e: BerthError) {
  return { error: { code: e.code, kind: e.kind, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } };
}

/**
 * A stream's last line when the daemon ends it for a reason its client should show: the error body,
 * alone on its line (an event line always has `time`, `type`, `object` and `reason`).
 */
export const endLineOf = (e: BerthError) => `${JSON.stringify(errorBodyOf(e))}\n`;

/**
 * A streamed answer. `start` writes through `out` and returns when it has nothing more to send;
 * `signal` aborts when the client goes or the server closes.
 */
export class StreamResponse {
  constructor(
    readonly contentType: string,
    readonly start: (out: StreamWriter, signal: AbortSignal) => Promise<void>,
  ) {}
}

/**
 * Once an answer is all written: a client that reads none of what is left of it for `ms` is cut off
 * (its connection destroyed), so an answer nobody reads never holds a connection or its bytes. A
 * slow reader is not: each check, what is left must only have shrunk.
 */
export function dropIfUnread(res: ServerResponse, ms: number): void {
  if (res.writableFinished || res.destroyed) return;
  let left = res.writableLength;
  const timer = setInterval(() => {
    if (res.writableLength >= left) res.destroy();
    left = res.writableLength;
  }, ms);
  const clear = () => clearInterval(timer);
  res.once('finish', clear);
  res.once('close', clear);
}

export interface StreamBounds {
  streamMaxUnreadBytes: number;
  answerStallMs: number;
}

function writerOf(res: ServerResponse, bounds: StreamBounds): StreamWriter {
  let stall: NodeJS.Timeout | undefined;
  const cut = () => {
    res.destroy();
    return false;
  };
  // From the moment what was sent waits on the client: read within answerStallMs, or be cut off.
  const watch = () => {
    if (stall || !res.writableNeedDrain) return;
    stall = setTimeout(cut, bounds.answerStallMs);
    res.once('drain', () => {
      clearTimeout(stall);
      stall = undefined;
    });
  };
  res.once('close', () => clearTimeout(stall));
  return {
    maxUnreadBytes: bounds.streamMaxUnreadBytes,
    write(chunk) {
      if (res.destroyed) return false;
      res.write(chunk);
      if (res.writableLength > bounds.streamMaxUnreadBytes) return cut();
      watch();
      return true;
    },
    drained() {
      if (res.destroyed) return Promise.resolve(false);
      if (!res.writableNeedDrain) return Promise.resolve(true);
      watch();
      return new Promise((resolve) => {
        const done = (read: boolean) => {
          res.off('drain', onDrain);
          res.off('close', onClose);
          resolve(read);
        };
        const onDrain = () => done(true);
        const onClose = () => done(false);
        res.on('drain', onDrain);
        res.on('close', onClose);
      });
    },
  };
}

/** Write a TextResponse or StreamResponse; false for anything else (server.ts sends it as JSON). */
export async function sendSpecial(
  res: ServerResponse,
  body: unknown,
  signal: AbortSignal,
  bounds: StreamBounds,
): Promise<boolean> {
  if (body instanceof TextResponse) {
    res.writeHead(200, { 'content-type': body.contentType, 'content-length': Buffer.byteLength(body.body) });
    res.end(body.body);
    return true;
  }
  if (!(body instanceof StreamResponse)) return false;
  res.writeHead(200, { 'content-type': body.contentType, 'cache-control': 'no-cache' });
  res.flushHeaders();
  const out = writerOf(res, bounds);
  await body.start(out, signal);
  // Ended once read: a client that never reads its last bytes is cut off, not kept.
  if (await out.drained()) res.end();
  return true;
}
