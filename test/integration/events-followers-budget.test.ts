// Event followers (`berth events`, `curl -N …/v1/events`) are long-lived and legitimate: they read
// everything, so no stream bound cuts them off. As many as the API has connections must still leave
// the operator a way in: past their own budget a follower is refused (503 ERR_API_BUSY, naming it)
// and `berth ps` keeps talking to the daemon.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_API_LIMITS } from '../../src/api/limits.js';
import { runBerth } from '../helpers/cli.js';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { until } from '../helpers/poll.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs([], { root: true });

interface Follower {
  socket: Socket;
  /** What it has been sent so far. */
  got: string;
  closed: boolean;
}

function follow(sock: string): Follower {
  const f: Follower = { socket: connect(sock), got: '', closed: false };
  f.socket.on('connect', () => f.socket.write('GET /v1/events?since=1d HTTP/1.1\r\nHost: x\r\n\r\n'));
  f.socket.on('data', (d: Buffer) => {
    f.got += d.toString();
  });
  f.socket.on('error', () => undefined);
  f.socket.on('close', () => {
    f.closed = true;
  });
  return f;
}

const answered = (f: Follower) => f.got.includes('\r\n\r\n') || f.closed;
const following = (f: Follower) => f.got.startsWith('HTTP/1.1 200') && !f.closed;

describe.skipIf(skip)('events followers against the connection limit', () => {
  let work: string;
  let daemon: TestDaemon | undefined;
  const followers: Follower[] = [];
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-followers-'));
    await mkdir(join(work, 'manifests'));
  });
  afterEach(async () => {
    for (const f of followers.splice(0)) f.socket.destroy();
    await daemon?.stop();
    daemon = undefined;
    await removeTempRoot(work);
  });

  it('as many followers as the API has connections: the rest are refused, berth ps still works', async () => {
    const root = join(work, 'root');
    const state = join(work, 'state');
    daemon = await startDaemon({ root, state, manifests: join(work, 'manifests') });
    const sock = join(state, 'berth.sock');
    for (let i = 0; i < DEFAULT_API_LIMITS.maxConnections; i++) followers.push(follow(sock));
    await until('every follower answered', () => followers.every(answered));
    const admitted = followers.filter(following);
    expect(admitted.length).toBe(DEFAULT_API_LIMITS.maxStreams);
    const refused = followers.find((f) => !following(f));
    expect(refused?.got).toMatch(/^HTTP\/1\.1 503/);
    expect(refused?.got).toContain('"code":"ERR_API_BUSY"');
    expect(refused?.got).toContain(`${DEFAULT_API_LIMITS.maxStreams} event followers`);

    const base = ['--root', root, '--state', state];
    const ps = await runBerth([...base, 'ps', '--output', 'json']);
    expect(ps.stderr).toBe('');
    expect(ps.code).toBe(0);
    // A follower more, from the CLI: the coded refusal, not a hang or a silent store read.
    const more = await runBerth([...base, 'events']);
    expect(more.code).not.toBe(0);
    expect(more.stderr).toContain('ERR_API_BUSY');

    // A follower that goes frees its place for the next.
    admitted[0]?.socket.destroy();
    await until('the follower gone', () => admitted[0]?.closed === true);
    await until(
      'a new follower admitted in the freed place',
      async () => {
        const f = follow(sock);
        followers.push(f);
        await until('the new follower answered', () => answered(f));
        return following(f);
      },
      20,
    );
  });
});
