// `GET /v1/events` against clients that do not read: a real daemon with a full event ring, as many
// followers as it has connections, none reading their answer. They must be cut off (their
// connections closed, so the API serves followers again) and the daemon's memory must stay bounded
// meanwhile; followers that go mid-answer change nothing. (How long many followers asking for the
// whole ring at once hold the daemon's loop is a matter of time: for a benchmark, not a test.)
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callDaemon } from '../../src/api/client.js';
import { DEFAULT_API_LIMITS } from '../../src/api/limits.js';
import { eventRingDir, openEventRing } from '../../src/events/ring.js';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { until } from '../helpers/poll.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs([], { root: true });

const rssBytes = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;

describe.skipIf(skip)('events stream against clients that do not read', () => {
  let work: string;
  let daemon: TestDaemon | undefined;
  const clients: Socket[] = [];
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-events-bounds-'));
    await mkdir(join(work, 'manifests'));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await daemon?.stop();
    daemon = undefined;
    await removeTempRoot(work);
  });

  it('followers that never read are cut off: their connections free, memory bounded, the daemon serves', async () => {
    const root = join(work, 'root');
    const state = join(work, 'state');
    // A full ring (its default 4 MiB): every follower asking for it all gets megabytes of history.
    const ring = openEventRing({ dir: eventRingDir(root), now: Date.now });
    for (let i = 0; i < 30_000; i++)
      ring.emit({ type: 'pod', object: `pod-${i}`, reason: 'Started', message: 'x'.repeat(60) });
    daemon = await startDaemon({ root, state, manifests: join(work, 'manifests') });
    const sock = join(state, 'berth.sock');
    const before = rssBytes(daemon.pid);
    let peak = before;
    const sampler = setInterval(() => {
      // After a timeout the test body goes on while afterEach stops the daemon: no sample then.
      try {
        if (daemon) peak = Math.max(peak, rssBytes(daemon.pid));
      } catch {
        // stopping: its /proc entry is gone
      }
    }, 100);
    try {
      // Two that go mid-answer, then as many that never read as the API has connections.
      for (let i = 0; i < 2 + DEFAULT_API_LIMITS.maxConnections; i++) {
        const c = connect(sock, () => c.write('GET /v1/events?since=1d HTTP/1.1\r\nHost: x\r\n\r\n'));
        c.on('error', () => undefined);
        if (i < 2) c.once('data', () => c.destroy());
        else c.pause();
        clients.push(c);
        await new Promise((r) => c.once('connect', r));
      }
      // As many as the API serves at once are being answered (a follower more is refused)…
      const followerMore = () =>
        callDaemon(sock, 'GET', '/v1/events?until=1').then(
          () => 'admitted',
          (e: { code?: string }) => (e.code === 'ERR_API_BUSY' ? 'refused' : 'admitted'),
        );
      await until('the followers are all being answered', async () => (await followerMore()) === 'refused');
      // …then cut off within the stream's stall bound, their places freed: a follower gets in again.
      await until('a follower admitted again', async () => (await followerMore()) === 'admitted', 300);
      expect(await callDaemon(sock, 'GET', '/v1/status')).toMatchObject({ pid: daemon.pid });
      peak = Math.max(peak, rssBytes(daemon.pid));
      // Each held its history (about 4.5 MiB here) until cut off, then nothing: some 300 MiB for 64,
      // with the garbage collector's slack. Unbounded, the 64 of them held 1.6 GiB and kept it.
      expect(peak - before).toBeLessThan(768 * 2 ** 20);
      ring.emit({ type: 'pod', object: 'after', reason: 'Started' });
      const lines: string[] = [];
      await new Promise<void>((resolve) => {
        const c = connect(sock, () =>
          c.write('GET /v1/events?since=1d&filter=pod%3Dafter HTTP/1.1\r\nHost: x\r\n\r\n'),
        );
        clients.push(c);
        c.on('data', (d: Buffer) => {
          lines.push(
            ...d
              .toString()
              .split('\n')
              .filter((l) => l.startsWith('{"time"')),
          );
          if (lines.length > 0) resolve();
        });
      });
      expect(JSON.parse(lines[0] as string)).toMatchObject({ object: 'after', reason: 'Started' });
    } finally {
      clearInterval(sampler);
    }
  }, 150_000); // 12 s on an idle host; past 60 s on one running four test files at once
});
