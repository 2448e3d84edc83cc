// Reading an HTTP/1.x response as a probe needs it: the status and Location of the head, then the
// body only to tell where it ends (Content-Length, chunked or the close) and never past
// MAX_BODY_BYTES. Pure and incremental: fed the socket's chunks as they come (a status line split
// over 1-byte writes included), it keeps at most MAX_HEAD_BYTES of a head and nothing of a body.
// As Go's client (the kubelet's): 1xx interim heads other than 101 are skipped (5 at most), a
// malformed status or header line is an error, a bare LF ends a line as CRLF does.

export const MAX_HEAD_BYTES = 16 * 1024;
export const MAX_BODY_BYTES = 10 * 1024;
const MAX_INTERIM = 5;
/** A chunk-size line longer than this is no chunk size. */
const MAX_CHUNK_LINE = 1024;

export interface ResponseHead {
  status: number;
  location?: string;
}

export type ReadState =
  | { kind: 'more' }
  | { kind: 'done'; head: ResponseHead }
  | { kind: 'error'; message: string };

export interface ResponseReader {
  /** The next bytes from the socket. */
  feed(chunk: Buffer): ReadState;
  /** The server closed: a whole head is an answer (the body may be cut short), less is an error. */
  end(): ReadState;
}

type Body =
  | { kind: 'none' }
  | { kind: 'length'; left: number }
  | { kind: 'close' }
  | { kind: 'chunked'; line: string; left: number; afterData: boolean };

export function createResponseReader(): ResponseReader {
  let headParts: Buffer[] = [];
  let headBytes = 0;
  // Bytes of the current line that are not CR: 0 at a LF means an empty line, the end of a head.
  let lineBytes = 0;
  let interim = 0;
  let head: ResponseHead | undefined;
  let body: Body = { kind: 'none' };
  let bodyRead = 0;
  let result: ReadState = { kind: 'more' };

  const settle = (r: ReadState): ReadState => {
    result = r;
    return r;
  };

  const takeHead = (text: string): ReadState | undefined => {
    const parsed = parseHead(text);
    if ('message' in parsed) return settle({ kind: 'error', message: parsed.message });
    if (parsed.status >= 100 && parsed.status < 200 && parsed.status !== 101) {
      interim++;
      if (interim > MAX_INTERIM) return settle({ kind: 'error', message: 'too many 1xx responses' });
      return undefined; // an interim head: the real one follows
    }
    head = { status: parsed.status, ...(parsed.location !== undefined ? { location: parsed.location } : {}) };
    if (parsed.status === 204 || parsed.status === 304 || parsed.status === 101) body = { kind: 'none' };
    else if (parsed.chunked) body = { kind: 'chunked', line: '', left: 0, afterData: false };
    else if (parsed.length !== undefined) body = { kind: 'length', left: parsed.length };
    else body = { kind: 'close' };
    if (body.kind === 'none' || (body.kind === 'length' && body.left === 0))
      return settle({ kind: 'done', head });
    return undefined;
  };

  const feedHead = (chunk: Buffer): { state?: ReadState; rest?: Buffer } => {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === 0x0a) {
        if (lineBytes === 0) {
          headParts.push(chunk.subarray(0, i + 1));
          const text = Buffer.concat(headParts).toString('latin1');
          headParts = [];
          headBytes = 0;
          lineBytes = 0;
          const state = takeHead(text);
          return { ...(state ? { state } : {}), rest: chunk.subarray(i + 1) };
        }
        lineBytes = 0;
      } else if (b !== 0x0d) lineBytes++;
      if (headBytes + i + 1 > MAX_HEAD_BYTES)
        return { state: settle({ kind: 'error', message: 'Parse Error: Header overflow' }) };
    }
    // A copy: the caller may reuse its read buffer.
    headParts.push(Buffer.from(chunk));
    headBytes += chunk.length;
    return {};
  };

  /** True when the body is over or read to its cap. */
  const bodyOver = (chunk: Buffer): boolean => {
    if (body.kind === 'none') return true;
    if (body.kind === 'close') bodyRead += chunk.length;
    else if (body.kind === 'length') {
      const n = Math.min(chunk.length, body.left);
      body.left -= n;
      bodyRead += n;
      if (body.left === 0) return true;
    } else if (readChunked(body, chunk, (n) => (bodyRead += n))) return true;
    // A framing error above ends the read with the head's answer, as a broken body did before.
    return bodyRead >= MAX_BODY_BYTES;
  };

  return {
    feed(chunk) {
      let rest: Buffer | undefined = chunk;
      while (result.kind === 'more' && rest && rest.length > 0) {
        if (head) return bodyOver(rest) ? settle({ kind: 'done', head }) : result;
        const r = feedHead(rest);
        if (r.state) return r.state;
        rest = r.rest;
      }
      return result;
    },
    end() {
      if (result.kind !== 'more') return result;
      if (head) return settle({ kind: 'done', head });
      return settle({ kind: 'error', message: 'connection closed before a response' });
    },
  };
}

type Parsed = { status: number; location?: string; length?: number; chunked: boolean } | { message: string };

/** The head's text (status line, header lines, the empty line) → what a probe needs of it. */
export function parseHead(text: string): Parsed {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const status = /^HTTP\/1\.[0-9] ([0-9]{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!status) return { message: `malformed HTTP status line "${printable(lines[0] ?? '')}"` };
  const out: { status: number; location?: string; length?: number; chunked: boolean } = {
    status: Number(status[1]),
    chunked: false,
  };
  for (const line of lines.slice(1)) {
    if (line === '' || line[0] === ' ' || line[0] === '\t') continue; // obs-fold: a value's continuation
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      return { message: `malformed HTTP header line "${printable(line)}"` };
    const value = line.slice(colon + 1).trim();
    const key = name.toLowerCase();
    if (key === 'location') out.location ??= value;
    else if (key === 'transfer-encoding') out.chunked = /(^|,)\s*chunked\s*$/i.test(value);
    else if (key === 'content-length') {
      if (!/^[0-9]{1,15}$/.test(value)) return { message: `malformed Content-Length "${printable(value)}"` };
      const n = Number(value);
      if (out.length !== undefined && out.length !== n) return { message: 'conflicting Content-Length' };
      out.length = n;
    }
  }
  // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3).
  if (out.chunked) delete out.length;
  return out;
}

/**
 * Takes body bytes of a chunked body; `count` is told how many are data. True when the body is
 * over: its last chunk seen, or framing that is not chunked (nothing more is worth reading).
 */
function readChunked(
  s: { line: string; left: number; afterData: boolean },
  chunk: Buffer,
  count: (n: number) => void,
): boolean {
  let i = 0;
  while (i < chunk.length) {
    if (s.left > 0) {
      const n = Math.min(s.left, chunk.length - i);
      s.left -= n;
      i += n;
      count(n);
      if (s.left === 0) s.afterData = true;
      continue;
    }
    const b = chunk[i++];
    if (b !== 0x0a) {
      if (b !== 0x0d) s.line += String.fromCharCode(b as number);
      if (s.line.length > MAX_CHUNK_LINE) return true;
      continue;
    }
    const line = s.line;
    s.line = '';
    if (s.afterData) {
      // The CRLF that closes a chunk's data.
      if (line !== '') return true;
      s.afterData = false;
      continue;
    }
    const size = /^([0-9a-fA-F]{1,12})\s*(;.*)?$/.exec(line);
    if (!size) return true;
    const n = Number.parseInt(size[1] as string, 16);
    if (n === 0) return true; // the last chunk: trailers, if any, are not needed
    s.left = n;
  }
  return false;
}

/** A line from the wire as it goes in a message: control bytes escaped, at most 64 characters. */
function printable(s: string): string {
  const cut = s.length > 64 ? `${s.slice(0, 64)}…` : s;
  return JSON.stringify(cut).slice(1, -1);
}
