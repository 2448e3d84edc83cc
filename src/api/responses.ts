// Answers that are not one JSON document: a text body (`GET /metrics`, Prometheus' text format) and
// a stream of lines (`GET /v1/events`, NDJSON, until the client goes or the daemon stops). A route
// returns one of these instead of a value to send as JSON; server.ts writes it.
import type { ServerResponse } from 'node:http';

export class TextResponse {
  constructor(
    readonly contentType: string,
    readonly body: string,
  ) {}
}

/**
 * A streamed answer. `start` writes through `write` (false: the client is slow, its buffer is
 * full) and returns when it has nothing more to send; `signal` aborts when the client goes or the
 * server closes.
 */
export class StreamResponse {
  constructor(
    readonly contentType: string,
    readonly start: (write: (chunk: string) => boolean, signal: AbortSignal) => Promise<void>,
  ) {}
}

/** Write a TextResponse or StreamResponse; false for anything else (server.ts sends it as JSON). */
export async function sendSpecial(res: ServerResponse, body: unknown, signal: AbortSignal): Promise<boolean> {
  if (body instanceof TextResponse) {
    res.writeHead(200, { 'content-type': body.contentType, 'content-length': Buffer.byteLength(body.body) });
    res.end(body.body);
    return true;
  }
  if (!(body instanceof StreamResponse)) return false;
  res.writeHead(200, { 'content-type': body.contentType, 'cache-control': 'no-cache' });
  res.flushHeaders();
  await body.start((chunk) => !res.destroyed && res.write(chunk), signal);
  if (!res.destroyed) res.end();
  return true;
}
