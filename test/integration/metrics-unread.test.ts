// `metrics.listen` is on the network: a scraper that asks and never reads its answer must not hold
// its connection (and the answer's bytes) forever, or as many of them as the listener takes lock a
// real Prometheus out. Dropped after the stall bound, as on the API socket.
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { serveMetrics } from '../../src/api/metrics-listener.js';
import { freePort } from '../helpers/free-port.js';

function scrape(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
      });
      res.on('end', () => resolve(`${res.statusCode} ${n}`));
      res.on('error', () => resolve(undefined));
    });
    req.on('error', () => resolve(undefined));
  });
}

describe('metrics.listen against scrapers that never read', () => {
  it('an answer its client never reads is dropped after the stall bound, and its connection freed', async () => {
    const body = 'berth_x 1\n'.repeat(4 * 2 ** 20); // 40 MiB: past what loopback TCP buffers take
    const m = await serveMetrics(`127.0.0.1:${await freePort()}`, async () => body, {
      maxConnections: 2,
      answerStallMs: 1_000,
    });
    const idle: Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const s = connect(m.port, '127.0.0.1', () => s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'));
        s.on('error', () => undefined);
        s.pause();
        idle.push(s);
        await new Promise((r) => s.once('connect', r));
      }
      await new Promise((r) => setTimeout(r, 200)); // both being answered
      // Held while unread, then cut off: a scraper is served again within a few stall bounds (a
      // generous deadline: on a loaded host a 40 MiB read of its own can stall past one bound).
      const deadline = Date.now() + 20_000;
      let answer: string | undefined;
      while (answer === undefined && Date.now() < deadline) answer = await scrape(m.port);
      expect(answer).toBe(`200 ${body.length}`);
    } finally {
      for (const s of idle) s.destroy();
      await m.close();
    }
  }, 60_000);
});
