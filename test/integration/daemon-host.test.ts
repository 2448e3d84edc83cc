// `berth daemon` as systemd and a monitoring system see it, on an empty host (no container
// needed): the notify protocol on a test NOTIFY_SOCKET (a path and an abstract name), credited to
// the daemon's PID; watchdog pings; journald priorities when JOURNAL_STREAM is its stderr; events
// streamed and kept; GET /metrics on the socket and on metrics.listen.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { get, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/content/lock.js';
import { CLI, runBerth, testEnv, withTestConfig } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import { type NotifyListener, startNotifyListener } from '../helpers/notify-listener.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['python3', 'systemd-notify'], { root: true });

/** GET `path` from 127.0.0.1:`port`. */
const tcpGet = (port: number, path: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });

/** Until `probe` holds, polling every 50 ms, for at most `ms`. */
async function until(what: string, probe: () => boolean | Promise<boolean>, ms = 20_000) {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never: ${what}`);
}

describe.skipIf(skip)('daemon under systemd-like supervision', () => {
  let work: string;
  let root: string;
  let state: string;
  let manifests: string;
  let daemon: ChildProcess | undefined;
  let listener: NotifyListener | undefined;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-daemon-host-'));
    [root, state, manifests] = ['root', 'state', 'manifests'].map((d) => join(work, d)) as [
      string,
      string,
      string,
    ];
    await mkdir(manifests);
  });
  afterEach(async () => {
    if (daemon?.exitCode === null) {
      const exited = new Promise((r) => daemon?.once('exit', r));
      daemon.kill('SIGKILL');
      await exited;
    }
    listener?.close();
    await removeTempRoot(work);
  });
  const start = (
    env: Record<string, string>,
    config = '',
    stdio: Array<'pipe' | 'ignore' | number> = ['ignore', 'pipe', 'pipe'],
    args: string[] = [],
  ) => {
    const cfg = join(work, 'config.yaml');
    return writeFile(cfg, config).then(() => {
      daemon = spawn(
        process.execPath,
        [CLI, '--config', cfg, '--root', root, '--state', state, 'daemon', '--manifests', manifests, ...args],
        {
          env: { ...process.env, ...env },
          stdio: stdio as ['ignore', 'pipe', 'pipe'],
        },
      );
      return daemon;
    });
  };
  const stopped = (d: ChildProcess) => new Promise<number | null>((r) => d.once('exit', (code) => r(code)));
  const socketGet = (path: string) =>
    new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      request({ socketPath: join(state, 'berth.sock'), path }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
        );
      })
        .on('error', reject)
        .end();
    });

  it('READY=1 after the first pass, STATUS, WATCHDOG from the loop, STOPPING on SIGTERM: each from the daemon', async () => {
    listener = await startNotifyListener({ dir: work });
    const d = await start({ NOTIFY_SOCKET: listener.socket, WATCHDOG_USEC: '400000' });
    const pid = d.pid as number;
    const ready = await listener.waitFor((m) => m.fields.READY === '1');
    expect(ready).toEqual({ pid, fields: { MAINPID: String(pid), READY: '1', STATUS: '0 pods running' } });
    await until(
      '3 watchdog pings',
      () => (listener?.messages.filter((m) => m.fields.WATCHDOG === '1').length ?? 0) >= 3,
    );
    // A rejected manifest: the status line is unchanged (no pod), the event is kept.
    await writeFile(
      join(manifests, 'bad.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec: {containers: [{name: a, image: x, foo: 1}]}\n',
    );
    await until(
      'the rejection recorded',
      async () =>
        (
          await runBerth([
            '--root',
            root,
            '--state',
            state,
            'events',
            '--until',
            '0s',
            '--filter',
            'type=manifest',
          ])
        ).stdout !== '',
    );
    const exit = stopped(d);
    d.kill('SIGTERM');
    expect(await exit).toBe(0);
    await listener.waitFor((m) => m.fields.STATUS === 'stopped; containers keep running');
    expect(listener.messages.find((m) => m.fields.STOPPING === '1')?.fields.STATUS).toBe(
      'stopping: finishing the steps under way',
    );
    expect(new Set(listener.messages.map((m) => m.pid))).toEqual(new Set([pid]));
    const events = await runBerth([
      '--root',
      root,
      '--state',
      state,
      'events',
      '--until',
      '0s',
      '--output',
      'json',
    ]);
    expect(events.code).toBe(0);
    const kept = events.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(kept.map((e: { type: string; reason: string }) => `${e.type} ${e.reason}`)).toEqual([
      'daemon Started',
      'manifest Rejected',
      'daemon Stopped',
    ]);
    expect(kept[1]).toEqual({
      time: kept[1].time,
      type: 'manifest',
      object: join(manifests, 'bad.yaml'),
      reason: 'Rejected',
      message: `${join(manifests, 'bad.yaml')}:4:41: ERR_MANIFEST_SCHEMA: unknown field spec.containers.0.foo`,
      attributes: { code: 'ERR_MANIFEST_SCHEMA' },
    });
  });

  it('READY=1 once the first pass has settled on a pull that fails and backs off, STATUS saying why', async () => {
    listener = await startNotifyListener({ dir: work });
    const dead = await freePort(); // nothing listens there
    await writeFile(
      join(manifests, 'web.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: main, image: "127.0.0.1:${dead}/app:1"}]\n`,
    );
    // Written a while ago, as a host's manifests are at boot: a file changed within the settle time
    // is held until a look at /proc clears it of writers (settle.ts), which on a busy host can
    // outlast the first pass, and READY then rightly counts no pod.
    const past = Date.now() / 1000 - 60;
    await utimes(join(manifests, 'web.yaml'), past, past);
    const d = await start({ NOTIFY_SOCKET: listener.socket }, 'pull:\n  retries: 0\n');
    const ready = await listener.waitFor((m) => m.fields.READY === '1');
    expect(ready).toEqual({
      pid: d.pid,
      fields: {
        MAINPID: String(d.pid),
        READY: '1',
        STATUS: `0 pods running, 1 waiting: web (waiting for image 127.0.0.1:${dead}/app:1)`,
      },
    });
    const exit = stopped(d);
    d.kill('SIGTERM');
    expect(await exit).toBe(0);
  });

  it('a pass that hangs stops the watchdog pings (and READY waits for it)', async () => {
    listener = await startNotifyListener({ dir: work });
    // The first pass waits for the reconcile lock, held here as a stuck `berth apply` would hold it.
    await mkdir(state, { recursive: true, mode: 0o711 });
    const held = await acquireLock(state, 'reconcile', { timeoutMs: 0 });
    const d = await start({ NOTIFY_SOCKET: listener.socket, WATCHDOG_USEC: '100000' });
    await until(
      'serving',
      async () => (await socketGet('/v1/status').catch(() => undefined))?.status === 200,
    );
    // Ten watchdog intervals with the pass stuck: a live loop would have pinged every 50 ms.
    await new Promise((r) => setTimeout(r, 1000));
    const whileStuck = listener.messages.length;
    await held.release();
    await listener.waitFor((m) => m.fields.READY === '1');
    await until(
      'pings once the pass ends',
      () => (listener?.messages.filter((m) => m.fields.WATCHDOG === '1').length ?? 0) >= 2,
    );
    expect(whileStuck).toBe(0);
    const exit = stopped(d);
    d.kill('SIGTERM');
    expect(await exit).toBe(0);
  });

  it('an abstract NOTIFY_SOCKET works too; without WATCHDOG_USEC no pings', async () => {
    listener = await startNotifyListener({ dir: work, abstract: true });
    const d = await start({ NOTIFY_SOCKET: listener.socket });
    await listener.waitFor((m) => m.fields.READY === '1' && m.pid === d.pid);
    const exit = stopped(d);
    d.kill('SIGTERM');
    expect(await exit).toBe(0);
    await listener.waitFor((m) => m.fields.STATUS === 'stopped; containers keep running');
    expect(listener.messages.filter((m) => m.fields.WATCHDOG !== undefined)).toEqual([]);
  });

  it('journald: one line per entry on stderr with its priority when JOURNAL_STREAM is stderr; plain otherwise', async () => {
    await writeFile(
      join(manifests, 'bad.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec: {containers: [{name: a, image: x, foo: 1}]}\n',
    );
    const logFile = join(work, 'journal');
    const fd = openSync(logFile, 'w');
    const st = fstatSync(fd, { bigint: true });
    const d = await start({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, '', ['ignore', fd, fd]);
    closeSync(fd);
    await until('the first pass logged', () => readFileSync(logFile, 'utf8').includes('ERR_MANIFEST_SCHEMA'));
    const exit = stopped(d);
    d.kill('SIGTERM');
    expect(await exit).toBe(0);
    const lines = readFileSync(logFile, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => l.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/, 'T'))).toEqual([
      `<6>T watching ${manifests}, serving ${join(state, 'berth.sock')}`,
      `<4>${join(manifests, 'bad.yaml')}:4:41: ERR_MANIFEST_SCHEMA: unknown field spec.containers.0.foo`,
      '<6>T stopped; containers keep running',
    ]);
    // A JOURNAL_STREAM that is not stderr's (inherited from a parent): plain lines.
    const d2 = await start({ JOURNAL_STREAM: '1:2' });
    let out = '';
    d2.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    await until('started', () => out.includes('watching'));
    const exit2 = stopped(d2);
    d2.kill('SIGTERM');
    await exit2;
    expect(out.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'T')).toBe(
      `T watching ${manifests}, serving ${join(state, 'berth.sock')}\nT stopped; containers keep running\n`,
    );
  });

  it('journald: a failed action is a <3> line, the failures priority, beside <6> for info', async () => {
    // An image on a loopback port nothing listens on: its pull fails at once (no retries).
    const port = await freePort();
    await writeFile(
      join(manifests, 'gone.yaml'),
      `apiVersion: berth.dev/v1alpha1\nkind: Image\nmetadata: {name: gone}\nspec: {ref: "127.0.0.1:${port}/none/gone:1"}\n`,
    );
    const logFile = join(work, 'journal');
    const fd = openSync(logFile, 'w');
    const st = fstatSync(fd, { bigint: true });
    const d = await start({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, 'pull: {retries: 0}\n', [
      'ignore',
      fd,
      fd,
    ]);
    closeSync(fd);
    await until('the pull failed', () => readFileSync(logFile, 'utf8').includes('ERR_REGISTRY_UNAVAILABLE'));
    const exit = stopped(d);
    d.kill('SIGTERM');
    expect(await exit).toBe(0);
    const lines = readFileSync(logFile, 'utf8').trimEnd().split('\n');
    const failed = lines.filter((l) => l.includes('ERR_REGISTRY_UNAVAILABLE'));
    expect(failed.length).toBeGreaterThan(0);
    for (const l of failed) expect(l).toMatch(/^<3>\d{4}-\d\d-\d\dT[\d:.]+Z failed pull /);
    expect(lines.filter((l) => !/^<[346]>/.test(l))).toEqual([]);
  });

  it('GET /v1/events streams history then new events; bad queries are 400s', async () => {
    const d = await start({});
    await until(
      'serving',
      async () => (await socketGet('/v1/status').catch(() => undefined))?.status === 200,
    );
    const lines: string[] = [];
    const req = request(
      { socketPath: join(state, 'berth.sock'), path: '/v1/events?filter=type%3Dmanifest&since=1h' },
      (res) => {
        expect([res.statusCode, res.headers['content-type']]).toEqual([200, 'application/x-ndjson']);
        res.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
      },
    );
    req.end();
    await new Promise((r) => setTimeout(r, 0));
    await writeFile(
      join(manifests, 'bad.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec: {containers: [{name: a, image: x, foo: 1}]}\n',
    );
    await until('the rejection streamed', () => lines.length === 1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      type: 'manifest',
      reason: 'Rejected',
      object: join(manifests, 'bad.yaml'),
    });
    // history: a later reader gets it too, and `until` in the past ends the stream at once
    const past = await socketGet('/v1/events?filter=reason%3DRejected&until=0s');
    expect(
      past.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).reason),
    ).toEqual(['Rejected']);
    const bad = await socketGet('/v1/events?since=yesterday');
    expect([bad.status, JSON.parse(bad.body).error.code]).toEqual([400, 'ERR_API_BAD_QUERY']);
    expect(JSON.parse(bad.body).error.message).toMatch(/^query parameter since "yesterday": /);
    const badFilter = await socketGet('/v1/events?filter=constructor%3Dx');
    expect([badFilter.status, JSON.parse(badFilter.body).error.code]).toEqual([400, 'ERR_API_BAD_QUERY']);
    expect(JSON.parse(badFilter.body).error.message).toBe(
      'query parameter filter "constructor=x": expected KEY=VALUE',
    );
    // The daemon stopping ends the stream (the client sees its end, not a hang).
    const ended = new Promise<void>((r) => req.on('close', () => r()));
    const exit = stopped(d);
    d.kill('SIGTERM');
    expect(await exit).toBe(0);
    await ended;
    const cli = await runBerth(['--root', root, '--state', state, 'events', '--since', 'yesterday']);
    expect([cli.code, cli.stderr]).toEqual([
      2,
      'berth: ERR_USAGE: --since "yesterday": not a duration (10m) or an RFC 3339 time\n',
    ]);
  });

  it('berth events follows a running daemon until interrupted; --until reads the ring and exits', async () => {
    const d = await start({});
    await until(
      'serving',
      async () => (await socketGet('/v1/status').catch(() => undefined))?.status === 200,
    );
    const follower = spawn(
      process.execPath,
      [CLI, ...withTestConfig(['--root', root, '--state', state, 'events', '--filter', 'reason=Rejected'])],
      {
        env: testEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    follower.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    await writeFile(
      join(manifests, 'bad.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec: {containers: [{name: a, image: x, foo: 1}]}\n',
    );
    await until('the rejection followed', () => out.includes('\n'));
    expect(out.replace(/^\S+/, 'T')).toBe(
      `T  manifest  ${join(manifests, 'bad.yaml')}  Rejected  ${join(manifests, 'bad.yaml')}:4:41: ERR_MANIFEST_SCHEMA: unknown field spec.containers.0.foo\n`,
    );
    const followerExit = new Promise<number | null>((r) => follower.once('exit', (code) => r(code)));
    follower.kill('SIGINT');
    expect(await followerExit).toBe(0);
    const exit = stopped(d);
    d.kill('SIGTERM');
    expect(await exit).toBe(0);
    // No daemon: the ring is read directly, and the command exits.
    const r = await runBerth(['--root', root, '--state', state, 'events', '--filter', 'type=daemon']);
    expect([
      r.code,
      r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('  ').slice(1, 4).join(' ')),
    ]).toEqual([0, ['daemon berth Started', 'daemon berth Stopped']]);
  });

  it('GET /metrics on the API socket and on metrics.listen (that path only)', async () => {
    const port = await freePort();
    const d = await start({}, `metrics:\n  listen: 127.0.0.1:${port}\n`);
    await until(
      'serving',
      async () => (await socketGet('/v1/status').catch(() => undefined))?.status === 200,
    );
    await until('a pass', async () =>
      (await socketGet('/metrics')).body.includes('berth_reconcile_pass_duration_seconds_count 1'),
    );
    const viaSocket = await socketGet('/metrics');
    expect([viaSocket.status, viaSocket.type]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
    const names = [...viaSocket.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(names).toEqual([
      'berth_build_info gauge',
      'berth_pods gauge',
      'berth_containers gauge',
      'berth_container_restarts_total counter',
      'berth_container_cpu_seconds_total counter',
      'berth_container_memory_bytes gauge',
      'berth_reconcile_pass_duration_seconds summary',
      'berth_reconcile_pass_cpu_seconds_total counter',
      'berth_reconcile_errors_total counter',
      'berth_image_pulls_total counter',
      'berth_image_pull_bytes_total counter',
      'berth_image_pull_duration_seconds summary',
      'berth_content_store_bytes gauge',
      'berth_snapshot_bytes gauge',
      'berth_root_filesystem_avail_bytes gauge',
      'berth_root_filesystem_size_bytes gauge',
      'berth_events_total counter',
      'berth_events_dropped_total counter',
    ]);
    const tcp = (path: string) => tcpGet(port, path);
    const metrics = await tcp('/metrics?x=1');
    expect([metrics.status, metrics.body.split('\n')[0]]).toEqual([
      200,
      '# HELP berth_build_info berth version.',
    ]);
    expect(await tcp('/v1/pods')).toEqual({ status: 404, body: 'only GET /metrics here\n' });
    expect(await tcp('/v1/events')).toEqual({ status: 404, body: 'only GET /metrics here\n' });
    const exit = stopped(d);
    d.kill('SIGTERM');
    expect(await exit).toBe(0);
    await expect(tcp('/metrics')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a metrics.listen port another process holds keeps the metrics off, not the daemon: said once, bound once it is free', async () => {
    // Any local user can bind an unprivileged port before berth does (a service of theirs started
    // first at boot, or while the daemon restarts): the daemon used to fail its start on it.
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', () => resolve()));
    const { port } = squatter.address() as { port: number };
    const d = await start({}, `metrics:\n  listen: 127.0.0.1:${port}\n`, undefined, ['--resync', '1']);
    let err = '';
    d.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    d.stdout?.resume();
    await until(
      'serving',
      async () => (await socketGet('/v1/status').catch(() => undefined))?.status === 200,
    );
    await until('the port said to be taken', () => err.includes('ERR_METRICS_LISTEN'));
    expect(err).toMatch(
      new RegExp(
        `ERR_METRICS_LISTEN: metrics\\.listen 127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*\\(tried again every 1 s\\)\n`,
      ),
    );
    await new Promise((resolve) => squatter.close(resolve));
    await until(
      'metrics.listen bound',
      async () => (await tcpGet(port, '/metrics').catch(() => undefined))?.status === 200,
    );
    expect(err.match(/ERR_METRICS_LISTEN/g)).toHaveLength(1); // once a minute, not at every retry
    const exit = stopped(d);
    d.kill('SIGTERM');
    expect(await exit).toBe(0);
    await expect(tcpGet(port, '/metrics')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a metrics.listen address the host does not have fails the start: only a port held is waited out', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): no host's address, EADDRNOTAVAIL; nothing is sent to it.
    const d = await start({}, 'metrics:\n  listen: 192.0.2.1:9100\n');
    let err = '';
    d.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    d.stdout?.resume();
    expect(await stopped(d)).toBe(8);
    expect(err).toMatch(/ERR_METRICS_LISTEN: metrics\.listen 192\.0\.2\.1:9100: .*EADDRNOTAVAIL/);
  });
});
