// Probes under `berth daemon`, end to end as root (runc, conmon, busybox httpd on hostNetwork pods,
// so probes go to 127.0.0.1): a liveness HTTP probe failing after some successes restarts the
// container with its reason in ps and the events; readiness flips READY both ways; a startup probe
// holds liveness back; a gRPC readiness probe against a test health server; a daemon killed and
// restarted mid-probing restarts nothing; `berth apply` alone says probes need the daemon.
import type { ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import { type GrpcHealthServer, startGrpcHealthServer } from '../helpers/grpc-health-server.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'findmnt'], {
  root: true,
});

// The CGI: healthy for the first 3 requests of each container's life (a counter in its own /tmp),
// then HTTP 500; busybox httpd passes a response that starts with HTTP through as it is.
const HEALTH_CGI = `#!/bin/sh
n=$(cat /tmp/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/count
if [ $n -gt 3 ]; then printf 'HTTP/1.0 500 Internal Server Error\\r\\n\\r\\n'; else printf 'HTTP/1.0 200 OK\\r\\n\\r\\nok'; fi
`;

describe.skipIf(skip)('probes under the daemon', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let root: string;
  let state: string;
  let dir: string;
  let www: string;
  let image: string;
  let daemon: ChildProcess | undefined;
  let grpc: GrpcHealthServer;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const views = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const podView = async (name: string) => (await views()).find((p) => p.name === name);
  const until = async <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 45_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const got = await probe();
      if (got) return got;
      if (Date.now() > end) throw new Error(`never: ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const start = () => {
    daemon = spawnBerth(['--root', root, '--state', state, 'daemon', '--manifests', dir, '--resync', '1']);
  };
  const stop = async (signal: NodeJS.Signals) => {
    const d = daemon;
    daemon = undefined;
    if (!d || d.exitCode !== null) return;
    const exited = new Promise((r) => d.once('exit', r));
    d.kill(signal);
    await exited;
  };
  /**
   * A hostNetwork pod serving `www` with busybox httpd on `p`, a port of its own from freePort(): one
   * in the ephemeral range can be any outgoing connection's on the host when httpd binds it (again,
   * after a restart), and httpd exits (EADDRINUSE); `probes` are YAML lines.
   */
  const pod = (name: string, p: number, probes: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  hostNetwork: true\n  terminationGracePeriodSeconds: 2\n` +
    `  volumes: [{name: www, hostPath: {path: ${www}}}]\n  containers:\n` +
    `    - name: main\n      image: ${image}\n      volumeMounts: [{name: www, mountPath: /www}]\n` +
    `      command: ["httpd", "-f", "-p", "127.0.0.1:${p}", "-h", "/www"]\n${probes}`;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-probes-'));
    root = join(work, 'root');
    state = join(work, 'state');
    dir = join(work, 'manifests');
    www = join(work, 'www');
    await mkdir(dir);
    await mkdir(join(www, 'cgi-bin'), { recursive: true });
    await writeFile(join(www, 'cgi-bin/health'), HEALTH_CGI);
    await chmod(join(www, 'cgi-bin/health'), 0o755);
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    image = `${registry.host}/demo/busybox:1`;
    await pushImage(layout, 'busybox', image);
    grpc = await startGrpcHealthServer();
    start();
  }, 180_000);
  afterAll(async () => {
    await stop('SIGTERM');
    const { left, leaked } = await cleanUpHost({ berth, work, folders: [dir], forceFirst: true });
    await grpc?.close();
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it('readiness flips READY both ways, with the reason while not ready', async () => {
    const port = await freePort();
    await writeFile(
      join(dir, 'ready.yaml'),
      pod(
        'ready',
        port,
        `      readinessProbe: {httpGet: {path: /ready-flag, port: ${port}}, periodSeconds: 1, failureThreshold: 1}\n`,
      ),
    );
    const notReady = await until('not ready with a 404', async () => {
      const v = await podView('ready');
      return v?.containers[0]?.lastProbe?.message === 'HTTP 404' && v;
    });
    expect(notReady.ready).toBe('0/1');
    expect(notReady.containers[0]).toMatchObject({
      state: 'running',
      started: true,
      ready: false,
      notReady: 'not ready: readiness probe failed: HTTP 404',
    });
    await writeFile(join(www, 'ready-flag'), 'yes');
    const ready = await until('ready', async () => {
      const v = await podView('ready');
      return v?.ready === '1/1' && v;
    });
    expect(ready.containers[0]).toMatchObject({
      ready: true,
      lastProbe: { probe: 'readiness', ok: true, message: 'HTTP 200' },
    });
    expect(ready.containers[0]?.notReady).toBeUndefined();
    const text = (await berth('ps')).stdout;
    expect(
      text
        .split('\n')
        .find((l) => l.startsWith('ready '))
        ?.split(/\s+/)
        .slice(0, 3),
    ).toEqual(['ready', 'Running', '1/1']);
    await rm(join(www, 'ready-flag'));
    await until('not ready again', async () => (await podView('ready'))?.ready === '0/1');
    expect((await berth('ps')).stdout).toContain('ready/main: not ready: readiness probe failed: HTTP 404\n');
    // The prober's events: a probe that starts failing is Unhealthy (once, not at every failure), and
    // each flip of readiness is Ready or NotReady; found by their pod, as the reconcile's events are.
    const health = async () =>
      (await berth('events', '--until', '0s', '-o', 'json', '--filter', 'pod=ready')).stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { reason: string; message: string })
        .filter((e) => ['Unhealthy', 'Ready', 'NotReady'].includes(e.reason))
        .map((e) => [e.reason, e.message]);
    await until('NotReady recorded', async () => (await health()).length >= 4);
    // Two more failing probes add no event.
    const ats = new Set<string>();
    await until('two more probes', async () => {
      ats.add((await podView('ready'))?.containers[0]?.lastProbe?.at ?? '');
      return ats.size >= 3;
    });
    expect(await health()).toEqual([
      ['Unhealthy', 'readiness probe failed: HTTP 404'],
      ['Ready', 'readiness probe: HTTP 200'],
      ['Unhealthy', 'readiness probe failed: HTTP 404'],
      ['NotReady', 'readiness probe: HTTP 404'],
    ]);
    // What probes say (a command's output may hold a secret) is root's alone.
    expect(statSync(join(state, 'health.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(state, 'probes')).mode & 0o777).toBe(0o700);
    await rm(join(dir, 'ready.yaml'));
  }, 150_000);

  it('a liveness HTTP probe failing after 3 successes restarts the container, the reason in ps and the events', async () => {
    const port = await freePort();
    await writeFile(
      join(dir, 'live.yaml'),
      pod(
        'live',
        port,
        `      livenessProbe: {httpGet: {path: /cgi-bin/health, port: ${port}}, periodSeconds: 1, failureThreshold: 2}\n`,
      ),
    );
    const exited: Array<string | null> = [];
    const restarted = await until(
      'restarted by liveness',
      async () => {
        const v = await podView('live');
        if (v?.containers[0]?.state === 'exited') exited.push(v.containers[0].lastError);
        return v?.containers[0]?.restarts === 1 && v.containers[0].state === 'running' && v;
      },
      60_000,
    );
    expect(restarted.containers[0]?.lastError).toBe('liveness probe failed: HTTP 500');
    // While it waits out its back-off, the reason is its last error too (not "exited 137").
    expect(new Set(exited)).toEqual(new Set(['liveness probe failed: HTTP 500']));
    expect(restarted.containers[0]?.lastLivenessRestart?.reason).toBe('liveness probe failed: HTTP 500');
    const events = (await berth('events', '--until', '0s', '-o', 'json')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reason: string; object: string; message: string });
    expect(
      events.filter((e) => e.object === 'live/main' && e.reason === 'Killing').map((e) => e.message)[0],
    ).toBe("liveness probe failed: HTTP 500: stopping it (grace 2 s), restarted per the pod's restartPolicy");
    await rm(join(dir, 'live.yaml'));
  }, 90_000);

  it('a startup probe holds liveness back until it succeeds', async () => {
    const port = await freePort();
    await writeFile(
      join(dir, 'slow.yaml'),
      pod(
        'slow',
        port,
        `      startupProbe: {exec: {command: [test, -f, /www/started]}, periodSeconds: 1, failureThreshold: 60, timeoutSeconds: 10}\n` +
          `      livenessProbe: {exec: {command: ["false"]}, periodSeconds: 1, failureThreshold: 1, timeoutSeconds: 10}\n`,
      ),
    );
    const waiting = await until('startup probed', async () => {
      const v = await podView('slow');
      return v?.containers[0]?.lastProbe?.probe === 'startup' && v;
    });
    expect(waiting.containers[0]).toMatchObject({ started: false, ready: false, restarts: 0 });
    expect(waiting.containers[0]?.lastProbe).toMatchObject({ ok: false, message: 'exit code 1' });
    // Liveness (failing at once, every second) would have killed it by now, were it not held back.
    const t0 = Date.now();
    await until('3 s more', async () => Date.now() - t0 > 3000);
    expect((await podView('slow'))?.containers[0]).toMatchObject({
      started: false,
      restarts: 0,
      state: 'running',
    });
    await writeFile(join(www, 'started'), '');
    const killed = await until('killed by liveness once started', async () => {
      const c = (await podView('slow'))?.containers[0];
      return c?.lastLivenessRestart && c;
    });
    expect(killed.lastLivenessRestart?.reason).toBe('liveness probe failed: exit code 1');
    await rm(join(dir, 'slow.yaml'));
    await rm(join(www, 'started'));
  }, 90_000);

  it('a gRPC readiness probe: SERVING is ready, NOT_SERVING is not', async () => {
    grpc.statuses.set('db', 1);
    const port = await freePort();
    await writeFile(
      join(dir, 'grpc.yaml'),
      pod(
        'grpc',
        port,
        `      readinessProbe: {grpc: {port: ${grpc.port}, service: db}, periodSeconds: 1, failureThreshold: 1}\n`,
      ),
    );
    await until('ready by gRPC', async () => (await podView('grpc'))?.ready === '1/1');
    grpc.statuses.set('db', 2);
    const v = await until('not ready by gRPC', async () => {
      const p = await podView('grpc');
      return p?.ready === '0/1' && p;
    });
    expect(v.containers[0]?.notReady).toBe(
      'not ready: readiness probe failed: service unhealthy (responded with "NOT_SERVING")',
    );
    await rm(join(dir, 'grpc.yaml'));
  }, 60_000);

  it('a daemon killed and restarted mid-probing restarts nothing, and probes afresh', async () => {
    await writeFile(join(www, 'ready-flag'), 'yes');
    const port = await freePort();
    await writeFile(
      join(dir, 'keep.yaml'),
      pod(
        'keep',
        port,
        `      readinessProbe: {httpGet: {path: /ready-flag, port: ${port}}, periodSeconds: 1}\n` +
          `      livenessProbe: {tcpSocket: {port: ${port}}, periodSeconds: 1, failureThreshold: 1}\n`,
      ),
    );
    const before = await until('ready', async () => {
      const v = await podView('keep');
      return v?.ready === '1/1' && v;
    });
    await stop('SIGKILL');
    // No daemon: ps says probes need it, and counts the container not ready.
    const alone = (await views()).find((p) => p.name === 'keep');
    expect(alone?.ready).toBe('0/1');
    expect(alone?.containers[0]?.notReady).toBe('probes run only under the daemon (berth daemon)');
    start();
    const after = await until('ready again under the new daemon', async () => {
      const v = await podView('keep');
      return v?.ready === '1/1' && v;
    });
    expect(after.containers[0]?.pid).toBe(before.containers[0]?.pid);
    expect(after.containers[0]?.restarts).toBe(0);
    await rm(join(dir, 'keep.yaml'));
    await rm(join(www, 'ready-flag'));
  }, 90_000);
});
