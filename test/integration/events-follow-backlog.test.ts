// A follower that reads its history slowly but steadily trips none of the stream's bounds (it reads,
// so it never stalls, and what it leaves unread stays small), yet every event emitted meanwhile
// waits behind that history in the daemon's memory. That backlog is bounded: past the bytes a
// client may leave unread, the follower is ended with a coded last line saying why, which
// `berth events` shows as its error, and the daemon's other followers are not touched.
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventsRoute } from '../../src/api/events-route.js';
import { DEFAULT_API_LIMITS } from '../../src/api/limits.js';
import { serveApi } from '../../src/api/server.js';
import { followDaemon } from '../../src/api/stream-client.js';
import { openEventRing } from '../../src/events/ring.js';
import { until } from '../helpers/poll.js';

interface RawFollower {
  socket: Socket;
  got: Buffer[];
  closed: Promise<void>;
}

function follow(sock: string, query: string): RawFollower {
  const f = { socket: connect(sock), got: [] as Buffer[] } as RawFollower;
  f.socket.on('connect', () => f.socket.write(`GET /v1/events?${query} HTTP/1.1\r\nHost: x\r\n\r\n`));
  f.socket.on('data', (d: Buffer) => f.got.push(d));
  f.socket.on('error', () => undefined);
  f.closed = new Promise((r) => f.socket.once('close', () => r()));
  return f;
}

/** The NDJSON lines of what a follower was sent (chunked framing dropped). */
const linesOf = (f: RawFollower) =>
  Buffer.concat(f.got)
    .toString('utf8')
    .split(/\r?\n/)
    .filter((l) => l.startsWith('{'));

describe('an events follower that reads its history slowly', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-follow-backlog-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is ended with ERR_API_FOLLOWER_BEHIND once the events waiting behind its history pass the unread bound', async () => {
    const ring = openEventRing({ dir: join(dir, 'events'), now: Date.now, maxBytes: 16 * 2 ** 20 });
    // A history far larger than the socket's buffers: sending it waits on the client.
    for (let i = 0; i < 10_000; i++)
      ring.emit({ type: 'pod', object: `old-${i}`, reason: 'Started', message: 'h'.repeat(100) });
    const sock = join(dir, 'berth.sock');
    // A reader that pauses is never cut off for it here: only the backlog's bound is under test.
    const api = await serveApi(
      sock,
      { 'GET /v1/events': eventsRoute(ring, Date.now) },
      { answerStallMs: 600_000 },
    );
    const slow = follow(sock, 'since=1d');
    slow.socket.once('data', () => slow.socket.pause()); // its history under way, then not read for a while
    const live = follow(sock, 'filter=pod%3Dnew-0');
    try {
      await until('the slow follower has its first history', () => slow.got.length > 0);
      await until('the live follower follows', () => Buffer.concat(live.got).includes('\r\n\r\n'));
      // Meanwhile, twice the unread bound of new events.
      const line = JSON.stringify({
        type: 'pod',
        object: 'new-0',
        reason: 'Started',
        message: 'n'.repeat(200),
      });
      const n = Math.ceil((2 * DEFAULT_API_LIMITS.streamMaxUnreadBytes) / line.length);
      for (let i = 0; i < n; i++)
        ring.emit({
          type: 'pod',
          object: i === 0 ? 'new-0' : `new-${i}`,
          reason: 'Started',
          message: 'n'.repeat(200),
        });
      slow.socket.resume(); // reads again, steadily, to the end
      // Ended, or (unbounded) sent every new event and following still.
      const lastNew = `"new-${n - 1}"`;
      await until(
        'the slow follower ended, or had every new event',
        () => slow.socket.destroyed || Buffer.concat(slow.got.slice(-2)).includes(lastNew),
      );
      await until('the slow follower ended', () => slow.socket.destroyed, 20);
      const lines = linesOf(slow);
      const last = JSON.parse(lines[lines.length - 1] as string);
      expect(last).toEqual({
        error: {
          code: 'ERR_API_FOLLOWER_BEHIND',
          kind: 'limit',
          message: `over ${DEFAULT_API_LIMITS.streamMaxUnreadBytes} bytes of new events waited while the follower read its history`,
          hint: 'follow again with a later --since, or fewer events with --filter',
        },
      });
      // Nothing it was sent is cut mid-line, and none of the new events reached it.
      for (const l of lines.slice(0, -1)) expect(JSON.parse(l)).toMatchObject({ reason: 'Started' });
      expect(lines.some((l) => l.includes('"new-'))).toBe(false);
      // The follower that kept up is still following.
      expect(live.socket.destroyed).toBe(false);
      expect(linesOf(live).map((l) => JSON.parse(l).object)).toEqual(['new-0']);
    } finally {
      slow.socket.destroy();
      live.socket.destroy();
      await api.close();
    }
  });

  it('berth events shows such an end as its coded error', async () => {
    const sock = join(dir, 'odd.sock');
    const end = {
      error: { code: 'ERR_API_FOLLOWER_BEHIND', kind: 'limit', message: 'behind', hint: 'again' },
    };
    const body = `${JSON.stringify({ time: 't', type: 'pod', object: 'a', reason: 'Started' })}\n${JSON.stringify(end)}\n`;
    const server = createServer((s) =>
      s.once('data', () =>
        s.end(`HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n${body}`),
      ),
    );
    await new Promise<void>((r) => server.listen(sock, () => r()));
    try {
      const seen: string[] = [];
      await expect(
        followDaemon(sock, '/v1/events', (l) => seen.push(l), new AbortController().signal),
      ).rejects.toMatchObject({
        code: 'ERR_API_FOLLOWER_BEHIND',
        kind: 'limit',
        message: 'behind',
        hint: 'again',
      });
      expect(seen.map((l) => JSON.parse(l).object)).toEqual(['a']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
