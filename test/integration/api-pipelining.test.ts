// Requests pipelined on one connection, to a real daemon: `metrics.listen` takes them from the
// network, and each answer costs a scrape. A client that sends thousands without reading must not
// hold the daemon's loop (its reconcile passes, its API) or its memory; a scraper still gets its
// answer, on the same port.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callDaemon } from '../../src/api/client.js';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/free-port.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';
import { writeTestConfig } from '../helpers/test-config.js';

const skip = missingPrereqs([], { root: true });

const rssBytes = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;

describe.skipIf(skip)('pipelined requests', () => {
  let work: string;
  let configDir: string | undefined;
  let daemon: TestDaemon | undefined;
  const clients: Socket[] = [];
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-pipelining-'));
    await mkdir(join(work, 'manifests'));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await daemon?.stop();
    daemon = undefined;
    if (configDir) await rm(configDir, { recursive: true, force: true });
    await removeTempRoot(work);
  });

  it('thousands of scrapes pipelined on metrics.listen by clients that never read hold neither loop nor memory', async () => {
    const port = await freePort();
    const test = writeTestConfig();
    configDir = test.dir;
    const config = join(work, 'config.yaml');
    await writeFile(config, `${readFileSync(test.file, 'utf8')}metrics:\n  listen: 127.0.0.1:${port}\n`);
    const state = join(work, 'state');
    const sock = join(state, 'berth.sock');
    daemon = await startDaemon({
      root: join(work, 'root'),
      state,
      manifests: join(work, 'manifests'),
      config,
    });
    const before = rssBytes(daemon.pid);
    const flood = 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(20_000);
    for (let i = 0; i < 4; i++) {
      const c = connect({ host: '127.0.0.1', port }, () => c.write(flood));
      c.on('error', () => undefined);
      c.pause();
      clients.push(c);
    }
    // The API answers throughout, and the daemon's memory stays bounded (every pipelined scrape
    // rendered and its answer held for the client was 80 000 answers, 700 MB and 18 s of loop).
    for (let i = 0; i < 5; i++) {
      await expect(callDaemon(sock, 'GET', '/v1/status', 30_000)).resolves.toMatchObject({ pid: daemon.pid });
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(rssBytes(daemon.pid) - before).toBeLessThan(128 * 2 ** 20);
    const scrape = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    expect([scrape.status, scrape.body.split('\n')[0]]).toEqual([
      200,
      '# HELP berth_build_info berth version.',
    ]);
  });
});
