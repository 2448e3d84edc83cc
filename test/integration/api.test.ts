// The daemon's API transport: a coded error crosses the socket intact; no socket, or a stale one,
// means "no daemon"; a second server on a live socket is refused; a silent daemon times out.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callDaemon } from '../../src/api/client.js';
import { serveApi } from '../../src/api/server.js';
import { BerthError } from '../../src/lib/errors.js';

describe('api socket', () => {
  let dir: string;
  let sock: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-api-'));
    sock = join(dir, 'state', 'berth.sock');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('answers routes; a coded error comes back as the same code and kind; an unknown route is not-found', async () => {
    const api = await serveApi(sock, {
      'GET /v1/status': async () => ({ pid: 7 }),
      'POST /v1/apply': async () => {
        throw new BerthError('ERR_SOMETHING', 'conflict', 'it conflicts', { hint: 'do the other thing' });
      },
    });
    try {
      expect(await callDaemon(sock, 'GET', '/v1/status')).toEqual({ pid: 7 });
      const err = await callDaemon(sock, 'POST', '/v1/apply').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BerthError);
      expect(err).toMatchObject({
        code: 'ERR_SOMETHING',
        kind: 'conflict',
        message: 'it conflicts',
        hint: 'do the other thing',
      });
      await expect(callDaemon(sock, 'GET', '/v1/nothing')).rejects.toMatchObject({
        code: 'ERR_API_NOT_FOUND',
        kind: 'not-found',
      });
      await expect(serveApi(sock, {})).rejects.toMatchObject({
        code: 'ERR_DAEMON_RUNNING',
        message: `a berth daemon (pid 7) already serves ${sock}`,
      });
    } finally {
      await api.close();
    }
    expect(await callDaemon(sock, 'GET', '/v1/status')).toBeUndefined(); // closed: no socket
  });

  it('a socket left by a killed daemon means no daemon, and the next server replaces it', async () => {
    // What a kill -9 leaves: the socket file, with nobody listening.
    await mkdir(join(dir, 'state'));
    const child = spawn(
      process.execPath,
      ['-e', `require('node:net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((r) => child.stdout.once('data', r));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(statSync(sock).isSocket()).toBe(true);
    expect(await callDaemon(sock, 'GET', '/v1/status')).toBeUndefined();
    const next = await serveApi(sock, { 'GET /v1/status': async () => ({ pid: 2 }) });
    expect(await callDaemon(sock, 'GET', '/v1/status')).toEqual({ pid: 2 });
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    await next.close();
  });

  it('a daemon that accepts but never answers times out with a coded error', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(join(dir, 'silent.sock'), r));
    try {
      await expect(callDaemon(join(dir, 'silent.sock'), 'GET', '/v1/status', 200)).rejects.toMatchObject({
        code: 'ERR_DAEMON_TIMEOUT',
        kind: 'unavailable',
      });
    } finally {
      silent.close();
    }
  });
});
