// The httpGet handler on the wire, against a raw TCP server on loopback that answers each request
// path with exact bytes: the one request the probe writes, and hostile or unusual answers (a status
// line in 1-byte writes, no status line, an overlong header line, HTTP/1.0, chunked, interim 1xx,
// a server that never closes), each bounded. Also: a probe leaves no timer behind, and a header
// value cannot smuggle header lines.
import { createHook } from 'node:async_hooks';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionTarget, HandlerAction, HttpHeader } from '../../src/health/action.js';
import { createRunAction } from '../../src/health/actions/run-action.js';

const runAction = createRunAction({
  runc: { bin: 'runc', root: '/nonexistent' },
  pidDir: tmpdir(),
  userAgent: 'berth-probe/test',
});
const target: ActionTarget = { containerId: 'none', address: '127.0.0.1', namedPorts: {} };
const get = (port: number, path: string, headers: HttpHeader[] = []): HandlerAction => ({
  kind: 'httpGet',
  scheme: 'HTTP',
  port,
  path,
  headers,
});

/** Writes `parts` one by one, each on its own turn of the event loop. */
const writeSlowly = (c: Socket, parts: string[], then?: () => void) => {
  const next = () => {
    const part = parts.shift();
    if (part === undefined) return then?.();
    c.write(part, 'latin1', () => setImmediate(next));
  };
  next();
};

describe('httpGet on the wire', () => {
  let server: Server;
  let port: number;
  const sockets = new Set<Socket>();
  let requests: string[] = [];

  beforeAll(async () => {
    server = createServer((c) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
      c.on('error', () => {});
      let got = '';
      c.on('data', (d) => {
        if (got.includes('\r\n\r\n')) return;
        got += d.toString('latin1');
        if (!got.includes('\r\n\r\n')) return;
        requests.push(got);
        const path = got.split(' ')[1]?.split('?')[0];
        const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
        switch (path) {
          case '/ok':
            return c.end(ok);
          case '/bytewise':
            // The status line and headers one byte per write.
            return writeSlowly(c, [...'HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n'], () => c.end());
          case '/garbage':
            return c.end('hello there\r\n\r\n');
          case '/nothing':
            return c.end();
          case '/long-line':
            return c.end(`HTTP/1.1 200 OK\r\nX-Long: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
          case '/bad-header':
            return c.end('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n');
          case '/http10':
            return c.end('HTTP/1.0 503 Service Unavailable\r\n\r\ndown');
          case '/http10-ok':
            return c.end('HTTP/1.0 200 OK\r\n\r\nfine');
          case '/chunked-open':
            // A chunked body to its last chunk, and the connection left open.
            return writeSlowly(c, [
              'HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n',
              '5\r\nhello\r\n',
              '6;ext=1\r\n world\r\n',
              '0\r\n\r\n',
            ]);
          case '/length-open':
            return c.write(ok); // the whole body, then nothing, and no close
          case '/short-open':
            return c.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this'); // and no more
          case '/interim':
            return c.end('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n' + ok);
          case '/interim-flood':
            return c.end('HTTP/1.1 100 Continue\r\n\r\n'.repeat(6) + ok);
          case '/no-reason':
            return c.end('HTTP/1.1 302\r\nLocation: /ok\r\nContent-Length: 0\r\n\r\n');
          default:
            return c.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const probe = (path: string, timeoutMs = 2000, headers: HttpHeader[] = []) =>
    runAction(get(port, path, headers), target, { timeoutMs });

  it('writes exactly one request, as the kubelet: Host with the port, User-Agent, Accept, Connection: close', async () => {
    requests = [];
    expect(await probe('/ok?x=1', 2000, [{ name: 'X-Custom', value: 'v' }])).toEqual({
      ok: true,
      message: 'HTTP 200',
    });
    expect(requests).toEqual([
      `GET /ok?x=1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: berth-probe/test\r\nAccept: */*\r\n` +
        'X-Custom: v\r\nConnection: close\r\n\r\n',
    ]);
  });

  it('refuses a header value with CR LF: no header line is smuggled, nothing is sent', async () => {
    requests = [];
    expect(await probe('/ok', 2000, [{ name: 'X-A', value: 'v\r\nX-Evil: 1' }])).toEqual({
      ok: false,
      message: 'invalid character in the value of HTTP header "X-A"',
    });
    expect(await probe('/ok', 2000, [{ name: 'X A', value: 'v' }])).toEqual({
      ok: false,
      message: 'invalid HTTP header name "X A"',
    });
    expect(await probe('/ok', 2000, [{ name: 'Host', value: 'h\r\nX-Evil: 1' }])).toEqual({
      ok: false,
      message: 'invalid character in the value of HTTP header "Host"',
    });
    expect(requests).toEqual([]);
  });

  it('reads a head written one byte at a time', async () => {
    expect(await probe('/bytewise')).toEqual({ ok: true, message: 'HTTP 204' });
  });

  it('fails on an answer with no status line, or none at all, or a malformed header line', async () => {
    expect(await probe('/garbage')).toEqual({
      ok: false,
      message: 'malformed HTTP status line "hello there"',
    });
    expect(await probe('/nothing')).toEqual({ ok: false, message: 'connection closed before a response' });
    expect(await probe('/bad-header')).toEqual({
      ok: false,
      message: 'malformed HTTP header line "no colon here"',
    });
  });

  it('fails on a header line over the 16 KiB cap', async () => {
    expect(await probe('/long-line')).toEqual({ ok: false, message: 'Parse Error: Header overflow' });
  });

  it('takes HTTP/1.0 answers, read to the close, and a status line with no reason', async () => {
    expect(await probe('/http10')).toEqual({ ok: false, message: 'HTTP 503' });
    expect(await probe('/http10-ok')).toEqual({ ok: true, message: 'HTTP 200' });
    expect(await probe('/no-reason')).toEqual({ ok: true, message: 'HTTP 200' });
  });

  it('ends at the body a server frames but does not close after: chunked or Content-Length', async () => {
    const t0 = Date.now();
    expect(await probe('/chunked-open', 5000)).toEqual({ ok: false, message: 'HTTP 500' });
    expect(await probe('/length-open', 5000)).toEqual({ ok: true, message: 'HTTP 200' });
    expect(Date.now() - t0).toBeLessThan(2500);
  });

  it('times out on a body that stops short and a server that never closes', async () => {
    expect(await probe('/short-open', 300)).toEqual({ ok: false, message: 'timed out after 0.3 s' });
  });

  it('skips interim 1xx heads, at most 5, as Go does', async () => {
    expect(await probe('/interim')).toEqual({ ok: true, message: 'HTTP 200' });
    expect(await probe('/interim-flood')).toEqual({ ok: false, message: 'too many 1xx responses' });
  });

  it('leaves no timer behind once a probe is over (its 30 s timeout cleared, not left to fire)', async () => {
    // Timers of this test's timeout, by async id, while they exist.
    const pending = new Set<number>();
    const hook = createHook({
      init(id, type, _trigger, resource) {
        if (type === 'Timeout' && (resource as { _idleTimeout?: number })._idleTimeout === 30_000)
          pending.add(id);
      },
      destroy(id) {
        pending.delete(id);
      },
    }).enable();
    try {
      for (let i = 0; i < 20; i++)
        expect(await probe('/ok', 30_000)).toEqual({ ok: true, message: 'HTTP 200' });
      expect(await runAction({ kind: 'tcpSocket', port }, target, { timeoutMs: 30_000 })).toEqual({
        ok: true,
        message: 'connected',
      });
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    } finally {
      hook.disable();
    }
    expect(pending.size).toBe(0);
  });
});
