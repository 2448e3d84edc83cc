// One HTTP/1.1 request to the daemon over its unix socket, `Connection: close`: written whole, the
// answer read to the end of the connection and split here. A CLI command asks the daemon once or
// twice, and node:http's client costs its first request 15-20 ms of set-up on the test host (a
// plain socket: 4-6 ms), on the way to a container's first output. `parseResponse` is pure.
import { connectSocket } from './socket-address.js';

export interface RawResponse {
  status: number;
  body: Buffer;
}

/** The request's bytes: a JSON body (`text`) gets its type and length; a POST without one, length 0. */
export function requestBytes(method: string, path: string, text: string | undefined): string {
  const head = [`${method} ${path} HTTP/1.1`, 'Host: berth', 'Connection: close'];
  if (text !== undefined)
    head.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(text)}`);
  else if (method !== 'GET') head.push('Content-Length: 0');
  return `${head.join('\r\n')}\r\n\r\n${text ?? ''}`;
}

/** A body sent in chunks, joined; undefined when the chunks are cut short or malformed. */
function unchunk(bytes: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = bytes.indexOf('\r\n', at);
    if (eol === -1) return undefined;
    const size = Number.parseInt(bytes.subarray(at, eol).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isInteger(size) || size < 0) return undefined;
    if (size === 0) return Buffer.concat(parts);
    const start = eol + 2;
    if (start + size + 2 > bytes.length) return undefined;
    parts.push(bytes.subarray(start, start + size));
    at = start + size + 2;
  }
}

export interface ResponseHead {
  status: number;
  /** Lower-cased names. */
  headers: Map<string, string>;
  /** Where the body starts in the bytes given. */
  bodyAt: number;
}

/** An answer's status line and headers; undefined until they are all there, or when not HTTP. */
export function parseHead(bytes: Buffer): ResponseHead | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const [statusLine = '', ...headerLines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
  if (!m) return undefined;
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(m[1]), headers, bodyAt: headEnd + 4 };
}

/** A whole answer split into its status and body; undefined when it is not one (cut short, not HTTP). */
export function parseResponse(bytes: Buffer): RawResponse | undefined {
  const head = parseHead(bytes);
  if (!head) return undefined;
  const { headers } = head;
  const rest = bytes.subarray(head.bodyAt);
  let body: Buffer | undefined = rest;
  if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') body = unchunk(rest);
  else if (headers.has('content-length')) {
    const length = Number(headers.get('content-length'));
    body =
      Number.isInteger(length) && length >= 0 && rest.length >= length ? rest.subarray(0, length) : undefined;
  }
  return body && { status: head.status, body };
}

export interface ExchangeOptions {
  socketPath: string;
  method: string;
  path: string;
  /** A JSON body, already serialised. */
  text?: string | undefined;
  /** Silence this long (ms) on the socket is a timeout. */
  timeoutMs: number;
  /** Called instead of resolving when the socket stays silent past `timeoutMs`. */
  onTimeout(): Error;
}

/** The daemon's whole answer; rejects with the socket's error (ENOENT, ECONNREFUSED…) as it is. */
export function exchange(o: ExchangeOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connectSocket(o.socketPath, () => socket.write(requestBytes(o.method, o.path, o.text)));
    socket.setTimeout(o.timeoutMs, () => socket.destroy(o.onTimeout()));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => resolve(Buffer.concat(chunks)));
  });
}
