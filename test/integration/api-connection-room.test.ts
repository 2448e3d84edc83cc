// The API's connections are bounded, and followers take at most their own budget of them; the rest
// is for requests. Sockets that are open but ask nothing (a client stuck between connect and write,
// a slowloris, a kept-alive connection gone quiet) must not hold that rest until the header timeout:
// at the bound, the oldest such socket makes room for a new connection. When every connection has
// a request under way, a new one is refused, and the CLI says the daemon is busy, naming its socket,
// never a bare ECONNRESET.
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callDaemon } from '../../src/api/client.js';
import { StreamResponse } from '../../src/api/responses.js';
import { serveApi } from '../../src/api/server.js';
import { until } from '../helpers/poll.js';

interface Client {
  socket: Socket;
  got: string;
  closed: boolean;
}

/** A raw connection that writes `request` (nothing: an idle socket) and keeps what it is sent. */
async function open(sock: string, request = ''): Promise<Client> {
  const c: Client = { socket: connect(sock), got: '', closed: false };
  c.socket.on('data', (d: Buffer) => {
    c.got += d.toString();
  });
  c.socket.on('error', () => undefined);
  c.socket.on('close', () => {
    c.closed = true;
  });
  await new Promise((r) => c.socket.once('connect', r));
  if (request) c.socket.write(request);
  return c;
}

const follower = (sock: string) => open(sock, 'GET /v1/follow HTTP/1.1\r\nHost: x\r\n\r\n');

describe('the API connection bound against sockets that ask nothing', () => {
  let dir: string;
  let sock: string;
  const clients: Client[] = [];
  let release: () => void = () => undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-api-room-'));
    sock = join(dir, 'berth.sock');
  });
  afterEach(async () => {
    release();
    for (const c of clients.splice(0)) c.socket.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  const serve = () => {
    const held = new Promise<void>((r) => {
      release = r;
    });
    return serveApi(
      sock,
      {
        'GET /v1/status': async () => ({ pid: 7 }),
        'POST /v1/status': async () => ({ pid: 7 }),
        'GET /v1/hold': async () => {
          await held;
          return { held: true };
        },
        // A follower: open until the server closes.
        'GET /v1/follow': async () =>
          new StreamResponse('application/x-ndjson', (_out, stop) => {
            return new Promise<void>((r) => stop.addEventListener('abort', () => r(), { once: true }));
          }),
      },
      { maxConnections: 4, maxStreams: 3 },
    );
  };

  it('followers to their budget plus idle sockets to the bound: the oldest idle socket makes room for a request', async () => {
    const api = await serve();
    try {
      for (let i = 0; i < 3; i++) clients.push(await follower(sock));
      await until('the followers are answered', () => clients.every((c) => c.got.startsWith('HTTP/1.1 200')));
      const idle = await open(sock);
      clients.push(idle);
      const later = await open(sock); // the newest idle socket: the first may make room for it
      clients.push(later);
      expect(await callDaemon(sock, 'GET', '/v1/status')).toEqual({ pid: 7 });
      expect(idle.closed).toBe(true);
      expect(clients.slice(0, 3).every((c) => !c.closed)).toBe(true); // followers untouched
    } finally {
      await api.close();
    }
  });

  it('a request whose body is still arriving is no answer under way: the oldest such makes room too', async () => {
    const api = await serve();
    try {
      for (let i = 0; i < 3; i++) clients.push(await follower(sock));
      await until('the followers are answered', () => clients.every((c) => c.got.startsWith('HTTP/1.1 200')));
      // A body promised and never sent (a slowloris on the body): held until the request timeout.
      // (`Expect: 100-continue`: the server says when it has the head.)
      const slowBody = await open(
        sock,
        'POST /v1/status HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n{',
      );
      clients.push(slowBody);
      await until("the slow body's head is read", () => slowBody.got.startsWith('HTTP/1.1 100'));
      expect(await callDaemon(sock, 'GET', '/v1/status')).toEqual({ pid: 7 });
      expect(slowBody.closed).toBe(true);
      expect(clients.slice(0, 3).every((c) => !c.closed)).toBe(true);
    } finally {
      await api.close();
    }
  });

  it('every connection with a request under way: a new one is ERR_API_BUSY naming the socket', async () => {
    const api = await serve();
    try {
      for (let i = 0; i < 3; i++) clients.push(await follower(sock));
      clients.push(await open(sock, 'GET /v1/hold HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n'));
      await until('every request is read', () => clients.every((c) => /^HTTP\/1\.1 (200|100)/.test(c.got)));
      const err = await callDaemon(sock, 'GET', '/v1/status').catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'ERR_API_BUSY',
        kind: 'unavailable',
        message: `the daemon at ${sock} had no room for another connection (each it serves has a request under way)`,
      });
      release();
      await until('the held request answered', () => (clients[3] as Client).got.includes('"held":true'));
      expect(await callDaemon(sock, 'GET', '/v1/status')).toEqual({ pid: 7 });
    } finally {
      await api.close();
    }
  });
});
