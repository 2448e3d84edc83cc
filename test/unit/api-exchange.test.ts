// The CLI's one-request HTTP/1.1 exchange with the daemon: what it sends, and how an answer read to
// the connection's end is split (a length, chunks, or the rest), and what is not an answer.
import { describe, expect, it } from 'vitest';
import { parseResponse, requestBytes } from '../../src/api/exchange.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('requestBytes', () => {
  it('sends a JSON body with its type and length, a bare POST with length 0, a GET with neither', () => {
    expect(requestBytes('POST', '/v1/containers', '{"a":"é"}')).toBe(
      'POST /v1/containers HTTP/1.1\r\nHost: berth\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"a":"é"}',
    );
    expect(requestBytes('POST', '/v1/apply', undefined)).toBe(
      'POST /v1/apply HTTP/1.1\r\nHost: berth\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    );
    expect(requestBytes('GET', '/v1/status', undefined)).toBe(
      'GET /v1/status HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n',
    );
  });
});

describe('parseResponse', () => {
  it('takes Content-Length bytes of body, and no more', () => {
    const res = parseResponse(b('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nconnection: close\r\n\r\n[]junk'));
    expect(res && [res.status, res.body.toString()]).toEqual([200, '[]']);
  });

  it('joins a chunked body', () => {
    const res = parseResponse(
      b('HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n4;x=y\r\n":1}\r\n0\r\n\r\n'),
    );
    expect(res && [res.status, res.body.toString()]).toEqual([409, '{"a":1}']);
  });

  it('reads to the end without a length', () => {
    const res = parseResponse(b('HTTP/1.0 500\r\n\r\n{}'));
    expect(res && [res.status, res.body.toString()]).toEqual([500, '{}']);
  });

  it.each([
    ['nothing', ''],
    ['a head cut short', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n'],
    ['a body cut short', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}'],
    ['chunks cut short', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}'],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'],
    ['a bad length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}'],
    ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n'],
  ])('is not an answer: %s', (_what, text) => {
    expect(parseResponse(b(text))).toBeUndefined();
  });
});
