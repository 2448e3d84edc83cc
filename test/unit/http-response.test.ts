// The httpGet probe's pure halves: the response reader (src/health/actions/http-response.ts) fed
// bytes in every split, and the request it writes (http-request.ts).
import { describe, expect, it } from 'vitest';
import { formatRequest } from '../../src/health/actions/http-request.js';
import {
  createResponseReader,
  MAX_BODY_BYTES,
  MAX_HEAD_BYTES,
  type ReadState,
} from '../../src/health/actions/http-response.js';

/** Feeds `text` in pieces of `size` bytes; the first state that is not `more`, else `more`. */
const feed = (text: string | Buffer, size = Number.POSITIVE_INFINITY): ReadState => {
  const r = createResponseReader();
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  for (let i = 0; i < bytes.length; i += Math.min(size, bytes.length)) {
    const s = r.feed(bytes.subarray(i, i + Math.min(size, bytes.length)));
    if (s.kind !== 'more') return s;
  }
  return { kind: 'more' };
};

describe('response reader', () => {
  const done = (status: number, location?: string): ReadState => ({
    kind: 'done',
    head: { status, ...(location !== undefined ? { location } : {}) },
  });

  it('reads a head and a Content-Length body in any split, 1 byte included', () => {
    const text = 'HTTP/1.1 301 Moved\r\nLocation: /next\r\nContent-Length: 4\r\n\r\nbody';
    for (const size of [1, 2, 3, 7, 1000]) expect(feed(text, size)).toEqual(done(301, '/next'));
    // One byte short of the body: not done yet.
    expect(feed(text.slice(0, -1), 1)).toEqual({ kind: 'more' });
  });

  it('takes bare LF line ends, a status line without a reason, the first Location only', () => {
    expect(feed('HTTP/1.0 200\nLocation: /a\nlocation: /b\ncontent-length: 0\n\n')).toEqual(done(200, '/a'));
  });

  it('ends a chunked body at its last chunk, chunk sizes split over writes, extensions and trailers', () => {
    const text =
      'HTTP/1.1 503 X\r\nTransfer-Encoding: chunked\r\n\r\na;x=y\r\n0123456789\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n';
    for (const size of [1, 5, 1000]) expect(feed(text, size)).toEqual(done(503));
    expect(feed(text.slice(0, text.indexOf('0\r\nT')), 1)).toEqual({ kind: 'more' });
  });

  it('stops reading at MAX_BODY_BYTES of a body that does not end', () => {
    const head = 'HTTP/1.1 200 OK\r\n\r\n';
    expect(feed(head + 'a'.repeat(MAX_BODY_BYTES - 1), 512)).toEqual({ kind: 'more' });
    expect(feed(head + 'a'.repeat(MAX_BODY_BYTES), 512)).toEqual(done(200));
    const chunked = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'400\r\n' + 'a'.repeat(0x400) + '\r\n'}`;
    expect(feed(chunked.repeat(1) + ('400\r\n' + 'a'.repeat(0x400) + '\r\n').repeat(9), 700)).toEqual(
      done(200),
    );
  });

  it('has no body for 204 and 304, and skips interim 1xx heads', () => {
    expect(feed('HTTP/1.1 204 No Content\r\n\r\n')).toEqual(done(204));
    expect(feed('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n')).toEqual(done(304));
    expect(feed('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 1)).toEqual(
      done(200),
    );
  });

  it('refuses a head over MAX_HEAD_BYTES, whether one line or many, without waiting for its end', () => {
    const overflow = { kind: 'error', message: 'Parse Error: Header overflow' };
    expect(feed(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`, 4096)).toEqual(overflow);
    expect(feed(`HTTP/1.1 200 OK\r\n${'X: y\r\n'.repeat(MAX_HEAD_BYTES / 4)}`, 1000)).toEqual(overflow);
  });

  it('refuses malformed heads: no HTTP status line, a bad header line, a bad or conflicting length', () => {
    expect(feed('\r\n\r\n')).toEqual({ kind: 'error', message: 'malformed HTTP status line ""' });
    expect(feed('HTTP/1.1 20 OK\r\n\r\n')).toEqual({
      kind: 'error',
      message: 'malformed HTTP status line "HTTP/1.1 20 OK"',
    });
    expect(feed('HTTP/1.1 200 OK\r\n: v\r\n\r\n')).toEqual({
      kind: 'error',
      message: 'malformed HTTP header line ": v"',
    });
    expect(feed('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')).toEqual({
      kind: 'error',
      message: 'malformed Content-Length "-1"',
    });
    expect(feed('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n')).toEqual({
      kind: 'error',
      message: 'conflicting Content-Length',
    });
  });

  it('at the close: a whole head is the answer, less is an error', () => {
    const r = createResponseReader();
    expect(r.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab'))).toEqual({ kind: 'more' });
    expect(r.end()).toEqual(done(200));
    const s = createResponseReader();
    expect(s.feed(Buffer.from('HTTP/1.1 200 O'))).toEqual({ kind: 'more' });
    expect(s.end()).toEqual({ kind: 'error', message: 'connection closed before a response' });
  });

  it('keeps no reference to the bytes it was fed (a reused read buffer is safe)', () => {
    const r = createResponseReader();
    const buf = Buffer.from('HTTP/1.1 20');
    expect(r.feed(buf)).toEqual({ kind: 'more' });
    buf.fill(0x78); // the caller reuses its buffer
    expect(r.feed(Buffer.from('4 No Content\r\n\r\n'))).toEqual(done(204));
  });
});

describe('request', () => {
  it('is one GET with Host, the defaults, given headers in order, Connection: close', () => {
    expect(
      formatRequest({
        target: '/p?q=1',
        host: 'h:8080',
        headers: [
          { name: 'Accept', value: 'text/plain' },
          { name: 'X-A', value: '1' },
          { name: 'x-a', value: '2' },
          { name: 'Host', value: 'ignored-here' },
          { name: 'Connection', value: 'keep-alive' },
        ],
        userAgent: 'berth-probe/1',
      }),
    ).toEqual({
      text: 'GET /p?q=1 HTTP/1.1\r\nHost: h:8080\r\nUser-Agent: berth-probe/1\r\nAccept: text/plain\r\nX-A: 1\r\nx-a: 2\r\nConnection: close\r\n\r\n',
    });
  });

  it('refuses header names that are no token and values with control bytes', () => {
    const r = (name: string, value: string) =>
      formatRequest({ target: '/', host: 'h', headers: [{ name, value }], userAgent: 'u' });
    expect(r('X-A', 'a\nb')).toEqual({ message: 'invalid character in the value of HTTP header "X-A"' });
    expect(r('X-A', 'a\0b')).toEqual({ message: 'invalid character in the value of HTTP header "X-A"' });
    expect(r('X\r\nB', 'v')).toEqual({ message: 'invalid HTTP header name "X\\r\\nB"' });
    expect(r('', 'v')).toEqual({ message: 'invalid HTTP header name ""' });
    expect(r('X-A', 'tab\tand latin-1 é')).toMatchObject({
      text: expect.stringContaining('X-A: tab\tand latin-1 é\r\n'),
    });
  });
});
