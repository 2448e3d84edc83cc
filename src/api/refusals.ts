// What node:http refuses before any route sees a request (a head over its bound, a request that
// does not arrive in time, bytes that are not HTTP/1.1), answered as every API error is: a coded
// JSON error, then the connection closed. Node's own answers to these have no body at all.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ApiLimits } from './limits.js';
import { pendingAnswers } from './pipelining.js';

interface Refusal {
  status: string;
  code: string;
  kind: 'limit' | 'invalid';
  message: string;
}

function refusalOf(err: Error & { code?: string }, l: ApiLimits): Refusal {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: '431 Request Header Fields Too Large',
        code: 'ERR_API_HEAD_TOO_LARGE',
        kind: 'limit',
        message: `request line and headers over ${l.maxHeaderBytes} bytes`,
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return {
        status: '413 Payload Too Large',
        code: 'ERR_API_BODY_TOO_LARGE',
        kind: 'limit',
        message: 'chunk extensions over their bound',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: '408 Request Timeout',
        code: 'ERR_API_REQUEST_TIMEOUT',
        kind: 'limit',
        message: `the request did not arrive in time (its head within ${l.headersTimeoutMs / 1000} s, all of it within ${l.requestTimeoutMs / 1000} s)`,
      };
    default:
      return {
        status: '400 Bad Request',
        code: 'ERR_API_BAD_REQUEST',
        kind: 'invalid',
        message: `not an HTTP/1.1 request: ${err.code ?? 'malformed'}`,
      };
  }
}

/** A node:http server's `clientError` listener: the refusal as a coded error, when nothing was sent yet. */
export function answerRefusals(l: ApiLimits): (err: Error, socket: Duplex) => void {
  return (err, socket) => {
    const s = socket as Socket;
    // Gone, or an answer under way: nothing more can be said on it. A kept-alive connection whose
    // answers all went out (bytes written before) is told, as node:http itself would.
    if ((err as { code?: string }).code !== 'ECONNRESET' && s.writable && pendingAnswers(s) === 0) {
      const r = refusalOf(err, l);
      const body = JSON.stringify({ error: { code: r.code, kind: r.kind, message: r.message } });
      s.write(
        `HTTP/1.1 ${r.status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    s.destroySoon(); // once what was written is sent
  };
}
