// Health under `berth daemon`, end to end as root (runc, conmon, overlayfs, busybox; hostNetwork
// pods), where the live prober and the hooks meet: while a postStart hook runs, the container runs
// but is neither started nor ready, is not probed, and opens no `depends-on` gate; a liveness kill
// runs the preStop hook before the stop signal, and a failing preStop is a PreStopFailed event;
// `depends-on: db` waits for db's readiness probe (and `db:started` for its startup probe) as the
// daemon's prober finds it, not a hand-written health.json. Every wait is on something observable
// (a file the test writes, ps, the events), bounded.
import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'findmnt'], {
  root: true,
});

interface Event {
  reason: string;
  object: string;
  message: string;
}

describe.skipIf(skip)('health under the daemon: hooks, probes and dependencies together', () => {
  let host: E2eHost | undefined;
  let work: string;
  let root: string;
  let state: string;
  let dir: string;
  let image: string;
  let daemon: ChildProcess | undefined;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const views = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const podView = async (name: string) => (await views()).find((p) => p.name === name);
  /** Every event so far, oldest first; those of container `object` (`pod/main`) when given. */
  const events = async (object?: string) =>
    (await berth('events', '--until', '0s', '-o', 'json')).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Event)
      .filter((e) => object === undefined || e.object === object);
  const containerIds = async () =>
    (
      JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{ name: string; id: string }>
    ).map((c) => c.name);
  const until = async <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 45_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const got = await probe();
      if (got) return got;
      if (Date.now() > end) throw new Error(`never: ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  /** A fresh host directory, mounted at /out in the pod. */
  const outDir = async (name: string) => {
    const d = join(work, `out-${name}`);
    await mkdir(d);
    return d;
  };
  const exists = (path: string) =>
    readFile(path).then(
      () => true,
      () => false,
    );
  /** A hostNetwork pod, its one container `main` mounting `out` at /out; `extra` are YAML lines of main. */
  const pod = (
    name: string,
    o: { out: string; command: string; extra?: string; grace?: number; dependsOn?: string },
  ) =>
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n` +
    (o.dependsOn ? `  annotations: {berth.dev/depends-on: "${o.dependsOn}"}\n` : '') +
    `spec:\n  hostNetwork: true\n  terminationGracePeriodSeconds: ${o.grace ?? 2}\n` +
    `  volumes: [{name: out, hostPath: {path: ${o.out}}}]\n  containers:\n` +
    `    - name: main\n      image: ${image}\n      volumeMounts: [{name: out, mountPath: /out}]\n` +
    `      command: [sh, -c, ${JSON.stringify(o.command)}]\n${o.extra ?? ''}`;
  const LOOP = "trap 'exit 0' TERM; while true; do sleep 0.1; done";

  beforeAll(async () => {
    host = await setUpE2eHost('health-daemon');
    ({ work, root, state, dir, image } = host);
    daemon = spawnBerth(['--root', root, '--state', state, 'daemon', '--manifests', dir, '--resync', '1']);
  }, 180_000);
  afterAll(async () => {
    const d = daemon;
    if (d && d.exitCode === null) {
      const exited = new Promise((r) => d.once('exit', r));
      d.kill('SIGTERM');
      await exited;
    }
    const { left, leaked } = await tearDownE2eHost(host, { forceFirst: true });
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it('while postStart runs: running, not started, not ready, not probed, no depends-on gate open', async () => {
    const out = await outDir('poststart');
    // The hook says it runs, then holds until the test writes /out/go.
    const hook = 'touch /out/hooking; while [ ! -f /out/go ]; do sleep 0.1; done';
    await writeFile(
      join(dir, 'hooked.yaml'),
      pod('hooked', {
        out: out,
        command: LOOP,
        grace: 60,
        extra:
          `      lifecycle: {postStart: {exec: {command: [sh, -c, ${JSON.stringify(hook)}]}}}\n` +
          `      readinessProbe: {exec: {command: [sh, -c, "touch /out/probed"]}, periodSeconds: 1}\n`,
      }),
    );
    await writeFile(
      join(dir, 'after-started.yaml'),
      pod('after-started', { out, command: LOOP, dependsOn: 'hooked:started' }),
    );
    await writeFile(
      join(dir, 'after-ready.yaml'),
      pod('after-ready', { out, command: LOOP, dependsOn: 'hooked' }),
    );
    await until('the postStart hook runs', () => exists(join(out, 'hooking')));
    const hooking = {
      state: 'running',
      started: false,
      ready: false,
      notReady: 'postStart hook running',
    };
    const pending = [
      ['after-ready', 'waiting for hooked to be ready: postStart hook running'],
      ['after-started', 'waiting for hooked to have started: postStart hook running'],
    ];
    const waitsOf = (vs: PodView[]) =>
      vs.filter((p) => p.name.startsWith('after-')).map((p) => [p.name, p.waiting?.replace(/^[^:]*: /, '')]);
    // The dependents' waits say why once a pass has planned them with the hook running.
    await until('the dependents wait for the hook', async () => {
      const vs = await views();
      return JSON.stringify(waitsOf(vs)) === JSON.stringify(pending) && vs;
    });
    // For a few passes (--resync 1) and probe periods: the same, and neither probe nor dependent ran.
    const t0 = Date.now();
    while (Date.now() - t0 < 3000) {
      const vs = await views();
      const c = vs.find((p) => p.name === 'hooked')?.containers[0];
      expect(c).toMatchObject(hooking);
      expect(c?.lastProbe).toBeUndefined();
      expect(vs.find((p) => p.name === 'hooked')?.ready).toBe('0/1');
      expect(waitsOf(vs)).toEqual(pending);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await exists(join(out, 'probed'))).toBe(false);
    expect((await containerIds()).filter((n) => n.startsWith('after-'))).toEqual([]);
    expect((await berth('ps')).stdout.split('\n').filter((l) => l.startsWith('hooked/'))).toEqual([
      'hooked/main: postStart hook running',
    ]);
    // The hook returns: started, probed, ready, and both dependents start.
    await writeFile(join(out, 'go'), '');
    const ready = await until('hooked ready and both dependents running', async () => {
      const vs = await views();
      const running = (n: string) => vs.find((p) => p.name === n)?.containers[0]?.state === 'running';
      return (
        vs.find((p) => p.name === 'hooked')?.ready === '1/1' &&
        running('after-ready') &&
        running('after-started') &&
        vs
      );
    });
    expect(ready.find((p) => p.name === 'hooked')?.containers[0]).toMatchObject({
      state: 'running',
      started: true,
      ready: true,
      lastProbe: { probe: 'readiness', ok: true, message: 'exit code 0' },
    });
    expect(await exists(join(out, 'probed'))).toBe(true);
    for (const f of ['hooked', 'after-started', 'after-ready']) await rm(join(dir, `${f}.yaml`));
    await until('removed', async () => (await views()).length === 0);
  }, 120_000);
  it('an exec probe whose command leaves a background process holding its output is judged by its exit code', async () => {
    const out = await outDir('bgprobe');
    await writeFile(
      join(dir, 'bgprobe.yaml'),
      pod('bgprobe', {
        out,
        command: LOOP,
        extra:
          '      readinessProbe: {exec: {command: [sh, -c, "sleep 1000 & echo ok"]}, periodSeconds: 1, timeoutSeconds: 5}\n',
      }),
    );
    const ready = await until('ready by an exec probe that forks', async () => {
      const c = (await podView('bgprobe'))?.containers[0];
      return c?.ready && c;
    });
    expect(ready.lastProbe).toMatchObject({ probe: 'readiness', ok: true, message: 'exit code 0: ok' });
    await rm(join(dir, 'bgprobe.yaml'));
    await until('bgprobe removed', async () => (await podView('bgprobe')) === undefined);
  }, 60_000);

  it('a liveness kill runs preStop before the stop signal, then the container restarts; a failing preStop is an event', async () => {
    const out = await outDir('liveness');
    const order = join(out, 'order');
    const main = "trap 'echo term >> /out/order; exit 0' TERM; while true; do sleep 0.1; done";
    await writeFile(
      join(dir, 'live.yaml'),
      pod('live', {
        out,
        command: main,
        grace: 10,
        extra:
          '      livenessProbe: {exec: {command: [sh, -c, "! test -f /out/fail"]}, periodSeconds: 1, failureThreshold: 1, timeoutSeconds: 10}\n' +
          '      lifecycle: {preStop: {exec: {command: [sh, -c, "echo prestop >> /out/order; exit 7"]}}}\n',
      }),
    );
    await until('live running', async () => (await podView('live'))?.containers[0]?.state === 'running');
    await writeFile(join(out, 'fail'), '');
    // preStop wrote first, then the process's TERM handler: the hook ran before the stop signal.
    await until(
      'the liveness stop',
      async () => (await readFile(order, 'utf8').catch(() => '')) === 'prestop\nterm\n',
    );
    await rm(join(out, 'fail'));
    const back = await until(
      'restarted',
      async () => {
        const c = (await podView('live'))?.containers[0];
        return c?.restarts === 1 && c.state === 'running' && c;
      },
      60_000,
    );
    expect(back.lastLivenessRestart?.reason).toBe('liveness probe failed: exit code 1');
    expect(await readFile(order, 'utf8')).toBe('prestop\nterm\n');
    const told = (await events('live/main'))
      .filter((e) => ['Killing', 'PreStopFailed', 'Restarted'].includes(e.reason))
      .map((e) => [e.reason, e.reason === 'Restarted' ? '' : e.message]);
    expect(told).toEqual([
      [
        'Killing',
        "liveness probe failed: exit code 1: stopping it (grace 10 s), restarted per the pod's restartPolicy",
      ],
      ['PreStopFailed', 'preStop hook failed: exit code 7'],
      ['Restarted', ''],
    ]);
    // A stop by the reconcile (the pod removed) tells its failing preStop too.
    await rm(join(dir, 'live.yaml'));
    await until('live removed', async () => (await podView('live')) === undefined);
    expect(await readFile(order, 'utf8')).toBe('prestop\nterm\nprestop\nterm\n');
    expect((await events('live/main')).filter((e) => e.reason === 'PreStopFailed').length).toBe(2);
  }, 120_000);

  it('depends-on: db waits for the live prober to find db ready; db:started for its startup probe', async () => {
    const out = await outDir('deps');
    await writeFile(
      join(dir, 'db.yaml'),
      pod('db', {
        out,
        command: LOOP,
        extra:
          '      readinessProbe: {exec: {command: [test, -f, /out/ready]}, periodSeconds: 1, failureThreshold: 1, timeoutSeconds: 10}\n',
      }),
    );
    await writeFile(
      join(dir, 'db2.yaml'),
      pod('db2', {
        out,
        command: LOOP,
        extra:
          '      startupProbe: {exec: {command: [test, -f, /out/started]}, periodSeconds: 1, failureThreshold: 600}\n',
      }),
    );
    await writeFile(join(dir, 'app.yaml'), pod('app', { out, command: LOOP, dependsOn: 'db' }));
    await writeFile(join(dir, 'app2.yaml'), pod('app2', { out, command: LOOP, dependsOn: 'db2:started' }));
    const waiting = [
      ['app', 'app: waiting for db to be ready: not ready: readiness probe failed: exit code 1'],
      ['app2', 'app2: waiting for db2 to have started: not started: startup probe failed: exit code 1'],
    ];
    const waitsOf = (vs: PodView[]) =>
      vs.filter((p) => p.name.startsWith('app')).map((p) => [p.name, p.waiting]);
    await until(
      'both dependents wait, saying why',
      async () => JSON.stringify(waitsOf(await views())) === JSON.stringify(waiting),
    );
    expect((await containerIds()).filter((n) => n.startsWith('app'))).toEqual([]);
    expect((await events()).filter((e) => e.object.startsWith('app')).map((e) => e.reason)).toEqual([]);
    // db's readiness flips: app starts, app2 still waits for db2's startup.
    await writeFile(join(out, 'ready'), '');
    await until('app running', async () => (await podView('app'))?.containers[0]?.state === 'running');
    expect((await podView('app2'))?.waiting).toBe(waiting[1]?.[1]);
    expect((await containerIds()).filter((n) => n.startsWith('app2'))).toEqual([]);
    const all = (await events()).map((e) => `${e.object} ${e.reason}`);
    expect(all.indexOf('db/main Ready')).toBeGreaterThanOrEqual(0);
    expect(all.indexOf('app/main Started')).toBeGreaterThan(all.indexOf('db/main Ready'));
    await writeFile(join(out, 'started'), '');
    await until('app2 running', async () => (await podView('app2'))?.containers[0]?.state === 'running');
    for (const f of ['db', 'db2', 'app', 'app2']) await rm(join(dir, `${f}.yaml`));
    await until('removed', async () => (await views()).length === 0);
  }, 120_000);
});
