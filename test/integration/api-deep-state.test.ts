// The daemon's API under a --state so deep that `<state>/berth.sock` passes sun_path's 107 bytes:
// Node refuses such a path (EINVAL), so the daemon said another daemon served the socket and would
// not start, and every command's look for a daemon failed (`ERR_API: daemon socket …: connect
// EINVAL`), daemon or none. Both ends now reach it through its directory's descriptor
// (socket-address.ts), which they close once done with it.
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callDaemon } from '../../src/api/client.js';
import { lineExchange } from '../../src/api/line-exchange.js';
import { StreamResponse } from '../../src/api/responses.js';
import { serveApi } from '../../src/api/server.js';
import { followDaemon } from '../../src/api/stream-client.js';
import { runBerth } from '../helpers/cli.js';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

/** This process's descriptors that name something under `dir`. */
function descriptorsUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target === dir || target.startsWith(`${dir}/`) ? [target] : [];
    } catch {
      return []; // the descriptor readdir itself used, closed by now
    }
  });
}

/** A stream of `lines`, NDJSON, ended once written. */
const streamOf = (lines: string[]) => async () =>
  new StreamResponse('application/x-ndjson', async (out) => {
    for (const l of lines) out.write(`${l}\n`);
  });

describe('an API socket past sun_path', () => {
  let dir: string;
  let sock: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-api-deep-'));
    sock = join(dir, 'd'.repeat(120), 'state', 'berth.sock');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is served, and reached by a call, a followed stream and a line exchange; a second server is refused', async () => {
    expect(Buffer.byteLength(sock)).toBeGreaterThan(107);
    const state = dirname(sock);
    expect(await callDaemon(sock, 'GET', '/v1/status')).toBeUndefined(); // its directory not there: no daemon
    const api = await serveApi(sock, {
      'GET /v1/status': async () => ({ pid: 7 }),
      'GET /v1/events': streamOf(['{"n":1}', '{"n":2}']),
      'POST /v1/run': streamOf(['{"out":"a"}']),
    });
    try {
      expect(statSync(sock).mode & 0o777).toBe(0o600);
      expect(await callDaemon(sock, 'GET', '/v1/status')).toEqual({ pid: 7 });
      const events: string[] = [];
      const followed = await followDaemon(
        sock,
        '/v1/events',
        (l) => events.push(l),
        new AbortController().signal,
      );
      expect([followed, events]).toEqual([true, ['{"n":1}', '{"n":2}']]);
      const out: string[] = [];
      const run = lineExchange({ socketPath: sock, path: '/v1/run', text: '{}', onLine: (l) => out.push(l) });
      expect([(await run.done)?.status, out]).toEqual([200, ['{"out":"a"}']]);
      await expect(serveApi(sock, {})).rejects.toMatchObject({
        code: 'ERR_DAEMON_RUNNING',
        message: `a berth daemon (pid 7) already serves ${sock}`,
      });
      // The clients' descriptors are closed; the server keeps the one it bound through (its directory gone).
      expect(descriptorsUnder(state)).toEqual([expect.stringMatching(/\/\.binding-[^/]+ \(deleted\)$/)]);
    } finally {
      await api.close();
    }
    expect(descriptorsUnder(state)).toEqual([]);
    expect(await callDaemon(sock, 'GET', '/v1/status')).toBeUndefined(); // closed: no socket
  });
});

describe.skipIf(missingPrereqs([], { root: true }))('berth under a --state past sun_path', () => {
  let work: string;
  let daemon: TestDaemon | undefined;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-deep-state-'));
    await mkdir(join(work, 'manifests'));
  });
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
    await removeTempRoot(work);
  });

  it('a command works with no daemon and through one; the daemon starts', async () => {
    const root = join(work, 'root');
    const state = join(work, 's'.repeat(120));
    expect(Buffer.byteLength(join(state, 'berth.sock'))).toBeGreaterThan(107);
    const ps = () => runBerth(['--root', root, '--state', state, 'ps', '--output', 'json']);
    const alone = await ps();
    expect([alone.code, alone.stderr, JSON.parse(alone.stdout)]).toEqual([0, '', []]);
    daemon = await startDaemon({ root, state, manifests: join(work, 'manifests') });
    const served = await ps();
    expect([served.code, served.stderr, JSON.parse(served.stdout)]).toEqual([0, '', []]);
  });
});
