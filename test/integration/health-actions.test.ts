// The network and sleep handlers of probe and hook actions (src/health/actions) against real
// servers on loopback: HTTP status rules, redirects as the kubelet follows them, Host and other
// headers, named ports, HTTPS without certificate checks, TCP connects, the gRPC health check, and
// hostile servers (never answering, endless headers, endless body, redirect loops) all bounded.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionTarget, HandlerAction } from '../../src/health/action.js';
import { createRunAction } from '../../src/health/actions/run-action.js';
import { freePort } from '../helpers/free-port.js';
import { type GrpcHealthServer, startGrpcHealthServer } from '../helpers/grpc-health-server.js';

const runAction = createRunAction({
  runc: { bin: 'runc', root: '/nonexistent' },
  pidDir: tmpdir(),
  userAgent: 'berth-probe/test',
});
const target = (over: Partial<ActionTarget> = {}): ActionTarget => ({
  containerId: 'none',
  address: '127.0.0.1',
  namedPorts: {},
  ...over,
});
const get = (
  port: number | string,
  path = '/',
  headers: { name: string; value: string }[] = [],
): HandlerAction => ({
  kind: 'httpGet',
  scheme: 'HTTP',
  port,
  path,
  headers,
});

const listen = async (server: Server | ReturnType<typeof createTcpServer>) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};
const sockets = new Set<Socket>();
const track = <S extends Server | ReturnType<typeof createTcpServer>>(s: S): S => {
  s.on('connection', (c: Socket) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  return s;
};

describe('health actions (network)', () => {
  let http: Server;
  let port: number;
  let seen: IncomingHttpHeaders[] = [];
  let hostile: ReturnType<typeof createTcpServer>;
  let hostilePort: number;
  let grpc: GrpcHealthServer;
  const servers: Array<{ close(cb?: () => void): unknown }> = [];

  beforeAll(async () => {
    http = track(
      createServer((req, res) => {
        seen.push(req.headers);
        const url = new URL(req.url ?? '/', 'http://x');
        const code = Number(url.searchParams.get('code') ?? 200);
        if (url.pathname === '/status') return res.writeHead(code).end('body');
        if (url.pathname === '/loop') return res.writeHead(302, { location: '/loop' }).end();
        if (url.pathname === '/hop') return res.writeHead(301, { location: `/status?code=${code}` }).end();
        if (url.pathname === '/abs')
          return res.writeHead(302, { location: `http://127.0.0.1:${port}/status?code=${code}` }).end();
        if (url.pathname === '/away') return res.writeHead(302, { location: 'http://192.0.2.1/x' }).end();
        if (url.pathname === '/endless') {
          res.writeHead(200);
          const write = () => {
            while (res.write(Buffer.alloc(64 * 1024, 'a'))) {}
          };
          res.on('drain', write);
          write();
          return;
        }
        if (url.pathname === '/silent') return; // never answers
        res.writeHead(404).end();
      }),
    );
    port = await listen(http);
    servers.push(http);
    // A raw server for what no HTTP server would send: endless headers.
    hostile = track(
      createTcpServer((c) => {
        c.on('error', () => {});
        c.once('data', () => {
          c.write('HTTP/1.1 200 OK\r\n');
          const write = () => {
            while (c.writable && c.write(`X-Filler: ${'b'.repeat(1000)}\r\n`)) {}
          };
          c.on('drain', write);
          write();
        });
      }),
    );
    hostilePort = await listen(hostile);
    servers.push(hostile);
    grpc = await startGrpcHealthServer();
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
    await grpc?.close();
  });

  it('counts 200–399 as success and 400 and up as failure, with the status in the message', async () => {
    expect(await runAction(get(port, '/status?code=200'), target(), { timeoutMs: 2000 })).toEqual({
      ok: true,
      message: 'HTTP 200',
    });
    expect(await runAction(get(port, '/status?code=399'), target(), { timeoutMs: 2000 })).toEqual({
      ok: true,
      message: 'HTTP 399',
    });
    expect(await runAction(get(port, '/status?code=500'), target(), { timeoutMs: 2000 })).toEqual({
      ok: false,
      message: 'HTTP 500',
    });
    expect(await runAction(get(port, '/status?code=404'), target(), { timeoutMs: 2000 })).toEqual({
      ok: false,
      message: 'HTTP 404',
    });
  });

  it('sends the User-Agent, Accept and Host the kubelet would, headers given replacing them', async () => {
    seen = [];
    await runAction(get(port, '/status'), target(), { timeoutMs: 2000 });
    expect(seen[0]?.['user-agent']).toBe('berth-probe/test');
    expect(seen[0]?.accept).toBe('*/*');
    expect(seen[0]?.host).toBe(`127.0.0.1:${port}`);
    seen = [];
    await runAction(
      get(port, '/status', [
        { name: 'Host', value: 'example.test' },
        { name: 'User-Agent', value: 'mine' },
        { name: 'X-Custom', value: 'v' },
      ]),
      target(),
      { timeoutMs: 2000 },
    );
    expect(seen[0]?.host).toBe('example.test');
    expect(seen[0]?.['user-agent']).toBe('mine');
    expect(seen[0]?.['x-custom']).toBe('v');
  });

  it('follows redirects to the same host, relative or absolute, keeping the Host header on relative ones', async () => {
    seen = [];
    expect(
      await runAction(get(port, '/hop?code=500', [{ name: 'Host', value: 'h.test' }]), target(), {
        timeoutMs: 2000,
      }),
    ).toEqual({ ok: false, message: 'HTTP 500' });
    expect(seen.map((h) => h.host)).toEqual(['h.test', 'h.test']);
    expect(await runAction(get(port, '/abs?code=204'), target(), { timeoutMs: 2000 })).toEqual({
      ok: true,
      message: 'HTTP 204',
    });
  });

  it('does not follow a redirect to another host: success with a warning, as the kubelet', async () => {
    expect(await runAction(get(port, '/away'), target(), { timeoutMs: 2000 })).toEqual({
      ok: true,
      message: 'HTTP 302 (warning: redirect to 192.0.2.1 not followed)',
    });
  });

  it('stops a redirect loop after 10 redirects', async () => {
    seen = [];
    expect(await runAction(get(port, '/loop'), target(), { timeoutMs: 5000 })).toEqual({
      ok: false,
      message: 'stopped after 10 redirects',
    });
    expect(seen.length).toBe(10);
  });

  it('resolves a named port from the container, and fails on an unknown name', async () => {
    expect(
      await runAction(get('web', '/status'), target({ namedPorts: { web: port } }), { timeoutMs: 2000 }),
    ).toEqual({ ok: true, message: 'HTTP 200' });
    expect(await runAction(get('nope', '/status'), target(), { timeoutMs: 2000 })).toEqual({
      ok: false,
      message: 'the container has no port named "nope"',
    });
  });

  it('fails with the pod having no address when there is none and no host is given', async () => {
    expect(await runAction(get(port), target({ address: '' }), { timeoutMs: 2000 })).toEqual({
      ok: false,
      message: 'the pod has no address to probe',
    });
  });

  it('reports connection refused', async () => {
    // Below the ephemeral range (free-port.ts): no other test's port-0 server can be given it.
    const closed = await freePort();
    expect(await runAction(get(closed), target(), { timeoutMs: 2000 })).toEqual({
      ok: false,
      message: 'connection refused',
    });
  });

  it('times out on a server that never answers', async () => {
    const t0 = Date.now();
    expect(await runAction(get(port, '/silent'), target(), { timeoutMs: 300 })).toEqual({
      ok: false,
      message: 'timed out after 0.3 s',
    });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('reads an endless body only to its cap and succeeds on its status', async () => {
    const before = process.memoryUsage().rss;
    const t0 = Date.now();
    expect(await runAction(get(port, '/endless'), target(), { timeoutMs: 5000 })).toEqual({
      ok: true,
      message: 'HTTP 200',
    });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('fails on endless headers, bounded by the parser', async () => {
    const r = await runAction(get(hostilePort), target(), { timeoutMs: 5000 });
    expect(r).toEqual({ ok: false, message: 'Parse Error: Header overflow' });
  });

  it('is aborted by the caller signal', async () => {
    const ac = new AbortController();
    const p = runAction(get(port, '/silent'), target(), { timeoutMs: 10_000, signal: ac.signal });
    ac.abort();
    expect(await p).toEqual({ ok: false, message: 'aborted' });
  });

  it('speaks HTTPS without checking the certificate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=nobody',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const { readFileSync } = await import('node:fs');
      const tls = createHttpsServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
        (_req, res) => res.writeHead(503).end(),
      );
      const tlsPort = await listen(tls as unknown as Server);
      const action: HandlerAction = {
        kind: 'httpGet',
        scheme: 'HTTPS',
        port: tlsPort,
        path: '/',
        headers: [],
      };
      expect(await runAction(action, target(), { timeoutMs: 3000 })).toEqual({
        ok: false,
        message: 'HTTP 503',
      });
      await new Promise<void>((r) => tls.close(() => r()));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('tcpSocket: a connect is success, a refusal failure, a named port resolved', async () => {
    expect(await runAction({ kind: 'tcpSocket', port }, target(), { timeoutMs: 2000 })).toEqual({
      ok: true,
      message: 'connected',
    });
    expect(
      await runAction({ kind: 'tcpSocket', port: 'p' }, target({ namedPorts: { p: port } }), {
        timeoutMs: 2000,
      }),
    ).toEqual({ ok: true, message: 'connected' });
    expect(
      await runAction({ kind: 'tcpSocket', host: '127.0.0.1', port: 1 }, target(), { timeoutMs: 2000 }),
    ).toEqual({
      ok: false,
      message: 'connection refused',
    });
  });

  it('grpc: SERVING is success, NOT_SERVING and an unknown service failure', async () => {
    const check = (service: string) =>
      runAction({ kind: 'grpc', port: grpc.port, service }, target(), { timeoutMs: 2000 });
    expect(await check('')).toEqual({ ok: true, message: 'SERVING' });
    grpc.statuses.set('db', 2);
    expect(await check('db')).toEqual({
      ok: false,
      message: 'service unhealthy (responded with "NOT_SERVING")',
    });
    grpc.statuses.set('db', 1);
    expect(await check('db')).toEqual({ ok: true, message: 'SERVING' });
    expect(await check('other')).toEqual({ ok: false, message: 'rpc error: code 5: unknown service' });
  });

  it('grpc: a port nothing listens on is "connection refused", as for the other probes', async () => {
    expect(await runAction({ kind: 'grpc', port: 1, service: '' }, target(), { timeoutMs: 2000 })).toEqual({
      ok: false,
      message: 'connection refused',
    });
  });

  it('grpc: a server that never answers is timed out, a plain TCP one fails', async () => {
    const silent = track(createTcpServer((c) => c.on('error', () => {})));
    const silentPort = await listen(silent);
    expect(
      await runAction({ kind: 'grpc', port: silentPort, service: '' }, target(), { timeoutMs: 300 }),
    ).toEqual({
      ok: false,
      message: 'timed out after 0.3 s',
    });
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
    const r = await runAction({ kind: 'grpc', port, service: '' }, target(), { timeoutMs: 2000 });
    expect(r.ok).toBe(false);
  });

  it('sleep: sleeps, and fails when cut short', async () => {
    expect(await runAction({ kind: 'sleep', seconds: 0.05 }, target(), { timeoutMs: 2000 })).toEqual({
      ok: true,
      message: 'slept 0.05 s',
    });
    expect(await runAction({ kind: 'sleep', seconds: 10 }, target(), { timeoutMs: 100 })).toEqual({
      ok: false,
      message: 'timed out after 0.1 s',
    });
  });
});
