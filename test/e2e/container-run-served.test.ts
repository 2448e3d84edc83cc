// The thin `container run` asks the daemon at its --state once: the run request says which root and
// host config it is for (`served`), and a daemon serving others refuses it before making anything
// (409 ERR_DAEMON_SERVES_OTHER), so the command runs the container itself, as with no daemon. A
// daemon of before that field refuses the field (400, an unknown field): the command then asks
// `GET /v1/status`, as it used to, and has the daemon run it all the same.
// What the command asks is seen through a recording relay at its --state's socket, in front of a
// real daemon on a state of its own (the daemon is reached only through its socket). For the older
// daemon the relay answers a run that carries `served` as that daemon's route did; the rest goes on.
// And what the thin client loads of Node: no built-in export it does not use (scripts/bundle.mjs).
// As root, real runc, conmon and overlayfs, busybox from a loopback registry.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { apiEventReasons } from '../helpers/api-events.js';
import { CLI, runBerth, testEnv, withTestConfig } from '../helpers/cli.js';
import { startDaemon } from '../helpers/daemon.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { findLeaks } from '../helpers/leaks.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'findmnt'], {
  root: true,
});

/** What the relay saw: each request's line (`POST /v1/containers/run`) and the status answered. */
interface Seen {
  request: string;
  status: number;
}

/** The bytes of one whole request (head and Content-Length body), or undefined while more must come. */
function wholeRequest(bytes: Buffer): { head: string; body: string } | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const head = bytes.subarray(0, end).toString('latin1');
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
  if (bytes.length < end + 4 + length) return undefined;
  return { head, body: bytes.subarray(end + 4, end + 4 + length).toString('utf8') };
}

/** A daemon of before `served` refuses it as createRequestOf refuses any unknown field. */
const OLDER_REFUSAL = JSON.stringify({
  error: { code: 'ERR_API_BAD_BODY', kind: 'invalid', message: 'body: unknown field "served"' },
});

/** A relay at `at` to the daemon's socket `to`, recording each exchange; `older`: refuse `served`. */
async function relay(
  at: string,
  to: string,
  older: boolean,
): Promise<{ seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    let bytes = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      bytes = Buffer.concat([bytes, c]);
      const req = wholeRequest(bytes);
      if (!req) return;
      client.off('data', onData);
      const entry = { request: req.head.split('\r\n')[0]?.replace(/ HTTP\/1\.1$/, '') ?? '', status: 0 };
      seen.push(entry);
      if (older && entry.request === 'POST /v1/containers/run' && 'served' in JSON.parse(req.body)) {
        entry.status = 400;
        client.end(
          `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(OLDER_REFUSAL)}\r\nconnection: close\r\n\r\n${OLDER_REFUSAL}`,
        );
        return;
      }
      const daemon = createConnection(to, () => daemon.write(bytes));
      open.add(daemon);
      daemon.on('close', () => open.delete(daemon));
      daemon.once('data', (c: Buffer) => {
        entry.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(c.toString('latin1'))?.[1] ?? 0);
      });
      daemon.pipe(client);
      client.pipe(daemon);
      daemon.on('error', () => client.destroy());
      client.on('error', () => daemon.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(at, r));
  return {
    seen,
    async close() {
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe.skipIf(skip)('container run with a daemon: which it asks, how often, and what it loads', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let image: string;
  let n = 0;
  const seenIds = new Set<string>();
  const scopes: Array<{ root: string; state: string }> = [];

  /** A root and state of its own (the image pulled into the root), cleaned up after the test. */
  const place = async () => {
    const t = await mkdtemp(join(work, 't-'));
    const at = { root: join(t, 'root'), state: join(t, 'state') };
    await mkdir(at.state, { recursive: true });
    scopes.push(at);
    return at;
  };
  const berth = (at: { root: string; state: string }, ...args: string[]) =>
    runBerth(['--root', at.root, '--state', at.state, ...args]);
  /** What the daemon at `at` recorded doing for container `name` through the API. */
  const apiEvents = (at: { root: string; state: string }, name: string) =>
    apiEventReasons((...args) => berth(at, ...args), name);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-e2e-served-'));
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    image = `${registry.host}/test/busybox:1`;
    await pushImage(layout, 'busybox', image);
  }, 180_000);
  afterAll(async () => {
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
  });
  afterEach(async () => {
    for (const at of scopes.splice(0)) {
      expect(JSON.parse((await berth(at, 'container', 'ls', '-o', 'json')).stdout || '[]')).toEqual([]);
      expect(findLeaks({ work, ...at, pods: [], seenIds })).toEqual([]);
      expect(await readdir(join(at.state, 'netns')).catch(() => [])).toEqual([]);
    }
  });

  it('a daemon serving another root refuses the run before anything; the command runs it itself', async () => {
    const mine = await place();
    const other = await place();
    expect((await berth(mine, 'image', 'pull', image)).code).toBe(0);
    const daemon = await startDaemon({ ...other, manifests: await mkdtemp(join(work, 'm-')) });
    onTestFinished(() => daemon.stop());
    const seen = await relay(join(mine.state, 'berth.sock'), join(other.state, 'berth.sock'), false);
    onTestFinished(() => seen.close());
    const name = `s${++n}`;
    const res = await berth(mine, 'container', 'run', '--rm', image, name, '--', 'echo', 'here');
    expect(res).toMatchObject({ code: 0, stdout: 'here\n', stderr: '' });
    // One question for the thin client, answered with the refusal; the full command's own check after it.
    expect(seen.seen[0]).toEqual({ request: 'POST /v1/containers/run', status: 409 });
    expect(seen.seen.slice(1)).toEqual([{ request: 'GET /v1/status', status: 200 }]);
    expect(await apiEvents(other, name)).toEqual([]);
    expect(JSON.parse((await berth(other, 'container', 'ls', '-o', 'json')).stdout || '[]')).toEqual([]);
  });

  it('a daemon of before `served` is asked its status, then runs it all the same', async () => {
    const mine = await place();
    const daemonState = await place();
    expect((await berth(mine, 'image', 'pull', image)).code).toBe(0);
    // The daemon serves the command's root from a state of its own; the relay is at the command's.
    const daemon = await startDaemon({
      root: mine.root,
      state: daemonState.state,
      manifests: await mkdtemp(join(work, 'm-')),
    });
    onTestFinished(() => daemon.stop());
    const seen = await relay(join(mine.state, 'berth.sock'), join(daemonState.state, 'berth.sock'), true);
    onTestFinished(() => seen.close());
    const name = `s${++n}`;
    const res = await berth(mine, 'container', 'run', '--rm', image, name, '--', 'echo', 'through');
    expect(res).toMatchObject({ code: 0, stdout: 'through\n', stderr: '' });
    expect(seen.seen).toEqual([
      { request: 'POST /v1/containers/run', status: 400 },
      { request: 'GET /v1/status', status: 200 },
      { request: 'POST /v1/containers/run', status: 200 },
    ]);
    // The daemon made, started and removed it: the thin run, not the full command.
    expect(await apiEvents({ root: mine.root, state: daemonState.state }, name)).toEqual([
      'Created',
      'Started',
      'Removed',
    ]);
  });

  it("a daemon-served run reads no built-in export it does not use (fs.Dir's read loads internal/fs/dir)", async () => {
    const mine = await place();
    expect((await berth(mine, 'image', 'pull', image)).code).toBe(0);
    const daemon = await startDaemon({ ...mine, manifests: await mkdtemp(join(work, 'm-')) });
    onTestFinished(() => daemon.stop());
    // The parts of Node the command loaded beyond a bare node's, as it exits. A CommonJS preload: an
    // ESM one's `import … from 'node:fs'` would itself read every export of node:fs, Dir included.
    const hook = join(work, `hook-${++n}.cjs`);
    const record = join(work, `loaded-${n}.txt`);
    await writeFile(
      hook,
      `const { writeFileSync } = require('node:fs');
const before = new Set(process.moduleLoadList);
process.on('exit', () => writeFileSync(${JSON.stringify(record)}, process.moduleLoadList.filter((m) => !before.has(m)).join('\\n')));
`,
    );
    const name = `s${n}`;
    const args = [
      '--root',
      mine.root,
      '--state',
      mine.state,
      'container',
      'run',
      '--rm',
      image,
      name,
      '--',
      'true',
    ];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--require', hook, CLI, ...withTestConfig(args)], {
        stdio: 'ignore',
        env: testEnv(),
      });
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect(code).toBe(0);
    expect(await apiEvents(mine, name)).toEqual(['Created', 'Started', 'Removed']); // the thin run
    const loaded = (await readFile(record, 'utf8')).split('\n');
    expect(loaded).toContain('NativeModule net');
    expect(loaded.filter((m) => m.includes('internal/fs/dir'))).toEqual([]);
  });
});
