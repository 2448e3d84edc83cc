// Lifecycle hooks end to end, as root, with real runc, conmon and overlayfs, under `berth apply`:
// preStop runs before the stop signal (the container's TERM handler reads what preStop wrote) and
// is bounded by the grace period, leaving no process; postStart runs right after the start (the main
// process sees its file); a failing postStart kills the container, which restarts with the reason
// in `ps` and the events; sleep and httpGet (to a busybox httpd in the pod) hooks; network postStart
// hooks to the test's own server (accepted, HTTP 500, refused: the failed one's preStop runs first);
// SIGKILL no sooner than 2 s after TERM when the preStop took the grace period. Hostile: a hook
// that forks a daemon and exits, one that never exits, one with a huge output.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

/** Host pids of processes whose command line is exactly `argv` (a unique marker each test picks). */
async function processesRunning(argv: string[]): Promise<number[]> {
  const want = `${argv.join('\0')}\0`;
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmd === want) out.push(Number(name));
  }
  return out;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(skip)('lifecycle hooks', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let root: string;
  let state: string;
  let image: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const pod = async (name: string) => (await ps()).find((p) => p.name === name);
  /** Each test's own manifests folder: a pod left failing by one test never fails another's apply. */
  const folders: string[] = [];
  const manifests = async (name: string) => {
    const d = join(work, `manifests-${name}`);
    await mkdir(d);
    folders.push(d);
    return d;
  };
  const applied = async (d: string) => {
    const r = await berth('apply', d);
    expect(r.code, `${r.stderr}${r.stdout}`).toBe(0);
  };
  const quoted = (argv: string[]) => argv.map((a) => `"${a}"`).join(', ');
  /** A fresh host directory, mounted at /out in the test's containers. */
  const outDir = async (name: string) => {
    const d = join(work, name);
    await mkdir(d);
    return d;
  };
  const podYaml = (
    name: string,
    o: { grace: number; policy?: string; containers: string; volumes: string },
  ) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: ${o.grace}\n` +
    `  restartPolicy: ${o.policy ?? 'Always'}\n  containers:\n${o.containers}  volumes:\n${o.volumes}`;
  const removePod = async (dir: string, name: string) => {
    await rm(join(dir, `${name}.yaml`));
    const started = Date.now();
    const r = await berth('apply', dir);
    return { ...r, ms: Date.now() - started };
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-hooks-'));
    root = join(work, 'root');
    state = join(work, 'state');
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    image = `${registry.host}/demo/busybox:1`;
    await pushImage(layout, 'busybox', image);
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await cleanUpHost({ berth, work, folders });
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
    expect(leaked).toEqual([]);
  });

  it('preStop runs before the stop signal: the TERM handler reads the file preStop wrote', async () => {
    const dir = await manifests('prestop');
    const out = await outDir('prestop');
    await writeFile(
      join(dir, 'prestop.yaml'),
      podYaml('prestop', {
        grace: 10,
        containers:
          `    - name: main\n      image: ${image}\n` +
          `      command: [sh, -c, "trap 'cat /out/prestop > /out/seen; exit 0' TERM; while true; do sleep 0.1; done"]\n` +
          `      lifecycle: {preStop: {exec: {command: [sh, -c, "echo from-prestop > /out/prestop"]}}}\n` +
          `      volumeMounts: [{name: out, mountPath: /out}]\n`,
        volumes: `    - {name: out, hostPath: {path: ${out}}}\n`,
      }),
    );
    await applied(dir);
    expect((await pod('prestop'))?.containers.map((c) => [c.name, c.state])).toEqual([['main', 'running']]);
    expect((await removePod(dir, 'prestop')).code).toBe(0);
    expect(await readFile(join(out, 'seen'), 'utf8')).toBe('from-prestop\n');
  });

  it('a failing preStop: the stop goes on, told by a PreStopFailed event', async () => {
    const dir = await manifests('prestopfail');
    const out = await outDir('prestopfail');
    await writeFile(
      join(dir, 'prestopfail.yaml'),
      podYaml('prestopfail', {
        grace: 10,
        containers:
          `    - name: main\n      image: ${image}\n` +
          `      command: [sh, -c, "trap 'echo term > /out/seen; exit 0' TERM; while true; do sleep 0.1; done"]\n` +
          `      lifecycle: {preStop: {exec: {command: [sh, -c, "echo failing; exit 5"]}}}\n` +
          `      volumeMounts: [{name: out, mountPath: /out}]\n`,
        volumes: `    - {name: out, hostPath: {path: ${out}}}\n`,
      }),
    );
    await applied(dir);
    expect((await removePod(dir, 'prestopfail')).code).toBe(0);
    expect(await readFile(join(out, 'seen'), 'utf8')).toBe('term\n');
    const events = (
      await berth('events', '--until', '0s', '--output', 'json', '--filter', 'pod=prestopfail')
    ).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { reason: string; object: string; message: string });
    expect(events.filter((e) => e.reason === 'PreStopFailed').map((e) => [e.object, e.message])).toEqual([
      ['prestopfail/main', 'preStop hook failed: exit code 5: failing'],
    ]);
  });

  it('a preStop that never ends is cut at the grace period (2 s): TERM then, no process left', async () => {
    const dir = await manifests('hang');
    const out = await outDir('hang');
    const marker = ['sleep', '1357913'];
    await writeFile(
      join(dir, 'hang.yaml'),
      podYaml('hang', {
        grace: 2,
        containers:
          `    - name: main\n      image: ${image}\n` +
          `      command: [sh, -c, "trap 'echo term > /out/seen; exit 0' TERM; while true; do sleep 0.1; done"]\n` +
          `      lifecycle: {preStop: {exec: {command: [${quoted(marker)}]}}}\n` +
          `      volumeMounts: [{name: out, mountPath: /out}]\n`,
        volumes: `    - {name: out, hostPath: {path: ${out}}}\n`,
      }),
    );
    await applied(dir);
    const removed = await removePod(dir, 'hang');
    expect(removed.code).toBe(0);
    // The main process got its TERM (after the preStop was cut) and handled it.
    expect(await readFile(join(out, 'seen'), 'utf8')).toBe('term\n');
    // The grace period (2 s) was spent on the preStop, then the TERM ended it: a bound, with margin
    // for a loaded host, far below the hook's 1357913 s.
    expect(removed.ms).toBeGreaterThanOrEqual(2000);
    expect(removed.ms).toBeLessThan(30_000);
    expect(await processesRunning(marker)).toEqual([]);
  });

  it('postStart runs right after the start: the main process sees the file it wrote', async () => {
    const dir = await manifests('poststart');
    const out = await outDir('poststart');
    await writeFile(
      join(dir, 'poststart.yaml'),
      podYaml('poststart', {
        grace: 1,
        containers:
          `    - name: main\n      image: ${image}\n` +
          `      command: [sh, -c, "while [ ! -f /tmp/started ]; do sleep 0.1; done; cp /tmp/started /out/seen; exec sleep 1000"]\n` +
          `      lifecycle: {postStart: {exec: {command: [sh, -c, "echo from-poststart > /tmp/started"]}}}\n` +
          `      volumeMounts: [{name: out, mountPath: /out}]\n`,
        volumes: `    - {name: out, hostPath: {path: ${out}}}\n`,
      }),
    );
    await applied(dir);
    const seen = await waitFor('the main process to see the file', () =>
      readFile(join(out, 'seen'), 'utf8').catch(() => undefined),
    );
    expect(seen).toBe('from-poststart\n');
    const view = await pod('poststart');
    expect(view?.containers.map((c) => [c.name, c.state, c.restarts, c.lastError])).toEqual([
      ['main', 'running', 0, null],
    ]);
    expect((await removePod(dir, 'poststart')).code).toBe(0);
  });

  it('a failing postStart kills the container; it restarts with back-off, the reason in ps and the events', async () => {
    const dir = await manifests('failing');
    const out = await outDir('failing');
    // Fails the first time only: the restart then runs.
    await writeFile(
      join(dir, 'failing.yaml'),
      podYaml('failing', {
        grace: 1,
        containers:
          `    - name: main\n      image: ${image}\n      command: [sleep, "1000"]\n` +
          `      lifecycle: {postStart: {exec: {command: [sh, -c, "[ -f /out/once ] && exit 0; touch /out/once; exit 1"]}}}\n` +
          `      volumeMounts: [{name: out, mountPath: /out}]\n`,
        volumes: `    - {name: out, hostPath: {path: ${out}}}\n`,
      }),
    );
    const first = await berth('apply', dir);
    expect(first.code).toBe(1);
    expect(first.stderr).toBe(
      'failed run          failing/main: new container: ERR_POSTSTART_HOOK: postStart hook failed: exit code 1\n',
    );
    const failed = await pod('failing');
    expect(failed?.containers.map((c) => [c.name, c.state, c.restarts, c.lastError])).toEqual([
      ['main', 'exited', 0, 'ERR_POSTSTART_HOOK: postStart hook failed: exit code 1'],
    ]);
    const events = (
      await berth('events', '--until', '0s', '--output', 'json', '--filter', 'pod=failing')
    ).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { reason: string; message: string });
    expect(events.map((e) => [e.reason, e.message])).toEqual([
      ['SetUp', 'failing: new pod (network namespace, volumes)'],
      ['StartFailed', 'failing/main: new container: ERR_POSTSTART_HOOK: postStart hook failed: exit code 1'],
    ]);
    // After its back-off (10 s) it is started again, and this time the hook succeeds.
    const again = await waitFor(
      'the restart',
      async () => {
        await berth('apply', dir);
        const p = await pod('failing');
        return p?.containers[0]?.state === 'running' ? p : undefined;
      },
      60_000,
    );
    expect(again.containers.map((c) => [c.name, c.state, c.restarts])).toEqual([['main', 'running', 1]]);
    expect((await removePod(dir, 'failing')).code).toBe(0);
  }, 90_000);

  it('network postStart hooks: a port that accepts passes, HTTP 500 or a refusal fails (preStop first); SIGKILL at least 2 s after TERM', async () => {
    const dir = await manifests('network');
    const out = await outDir('network');
    // The hooks' own host: this test's server (HTTP 500 to every request; a TCP connect is accepted).
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    // A port nothing listens on, for the whole test: one a bind to 0 gave and was closed could be
    // handed to another test's server asking for port 0 meanwhile, and the refused hook would pass.
    const closedPort = await freePort();
    const hooked = (name: string, lifecycle: string, probes = '') =>
      podYaml(name, {
        grace: 2,
        policy: 'Never',
        containers:
          `    - name: main\n      image: ${image}\n      command: [sleep, "1000"]\n` +
          `      lifecycle: ${lifecycle}\n${probes}      volumeMounts: [{name: out, mountPath: /out}]\n`,
        volumes: `    - {name: out, hostPath: {path: ${out}}}\n`,
      });
    const preStop = (name: string) =>
      `preStop: {exec: {command: [sh, -c, "echo ${name} > /out/prestop-${name}"]}}`;
    await writeFile(
      join(dir, 'tcpok.yaml'),
      // Its liveness probe, due every second, is never run by `berth apply` (only the daemon probes).
      hooked(
        'tcpok',
        `{postStart: {tcpSocket: {host: 127.0.0.1, port: ${port}}}}`,
        `      livenessProbe: {httpGet: {host: 127.0.0.1, port: ${port}, path: /live}, periodSeconds: 1}\n`,
      ),
    );
    await writeFile(
      join(dir, 'http500.yaml'),
      hooked(
        'http500',
        `{postStart: {httpGet: {host: 127.0.0.1, port: ${port}, path: /start}}, ${preStop('http500')}}`,
      ),
    );
    await writeFile(
      join(dir, 'refused.yaml'),
      hooked(
        'refused',
        `{postStart: {tcpSocket: {host: 127.0.0.1, port: ${closedPort}}}, ${preStop('refused')}}`,
      ),
    );
    // Ignores TERM (writing when it came, on the boot clock /proc/uptime shares with the host); its preStop takes the whole grace period (2 s: a longer sleep is refused, as a cluster refuses it).
    await writeFile(
      join(dir, 'floor.yaml'),
      podYaml('floor', {
        grace: 2,
        containers:
          `    - name: main\n      image: ${image}\n` +
          // `wait` is cut by the signal, so the trap writes when TERM came (after a foreground sleep it
          // ran up to 0.1 s late, and the measured wait could read 1.99 s).
          `      command: [sh, -c, "trap 'cat /proc/uptime > /out/term' TERM; while true; do sleep 0.1 & wait $!; done"]\n` +
          `      lifecycle: {preStop: {sleep: {seconds: 2}}}\n` +
          `      volumeMounts: [{name: out, mountPath: /out}]\n`,
        volumes: `    - {name: out, hostPath: {path: ${out}}}\n`,
      }),
    );
    try {
      const r = await berth('apply', dir);
      expect(r.code).toBe(1);
      expect(r.stderr.split('\n').filter(Boolean).sort()).toEqual([
        'failed run          http500/main: new container: ERR_POSTSTART_HOOK: postStart hook failed: HTTP 500',
        'failed run          refused/main: new container: ERR_POSTSTART_HOOK: postStart hook failed: connection refused',
      ]);
      expect(hits).toEqual(['GET /start']);
      const views = await ps();
      expect(
        ['floor', 'http500', 'refused', 'tcpok'].map((n) => {
          const c = views.find((p) => p.name === n)?.containers[0];
          return [n, c?.state, c?.lastError];
        }),
      ).toEqual([
        ['floor', 'running', null],
        ['http500', 'exited', 'ERR_POSTSTART_HOOK: postStart hook failed: HTTP 500'],
        ['refused', 'exited', 'ERR_POSTSTART_HOOK: postStart hook failed: connection refused'],
        ['tcpok', 'running', null],
      ]);
      // Each failed container was stopped as any other: its preStop ran first.
      expect((await readdir(out)).sort()).toEqual(['prestop-http500', 'prestop-refused']);
      expect(await readFile(join(out, 'prestop-refused'), 'utf8')).toBe('refused\n');
      // floor: the preStop took the whole grace period; TERM, then SIGKILL no sooner than 2 s after.
      for (const n of ['floor', 'http500', 'refused', 'tcpok']) await rm(join(dir, `${n}.yaml`));
      const removed = await berth('apply', dir);
      const uptime = (text: string) => Number.parseFloat(text.split(' ')[0] ?? '');
      const doneAt = uptime(await readFile('/proc/uptime', 'utf8'));
      expect(removed.code, removed.stderr).toBe(0);
      // Killed with TERM unhandled, there would be no file.
      const term = await readFile(join(out, 'term'), 'utf8').catch(() => 'no TERM handled');
      expect(term).toMatch(/^\d+\.\d+ \d+\.\d+\n$/);
      const termAt = uptime(term);
      expect(doneAt - termAt).toBeGreaterThanOrEqual(2);
      // Neither apply (4 s and more, the probe due every second) ran the liveness probe.
      expect(hits).toEqual(['GET /start']);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 60_000);

  it('a sleep preStop holds the stop signal for its seconds', async () => {
    const dir = await manifests('sleep');
    const out = await outDir('sleep');
    await writeFile(
      join(dir, 'sleep.yaml'),
      podYaml('sleep', {
        grace: 10,
        containers:
          `    - name: main\n      image: ${image}\n` +
          `      command: [sh, -c, "trap 'echo term > /out/seen; exit 0' TERM; while true; do sleep 0.1; done"]\n` +
          `      lifecycle: {preStop: {sleep: {seconds: 1}}}\n` +
          `      volumeMounts: [{name: out, mountPath: /out}]\n`,
        volumes: `    - {name: out, hostPath: {path: ${out}}}\n`,
      }),
    );
    await applied(dir);
    const removed = await removePod(dir, 'sleep');
    expect(removed.code).toBe(0);
    expect(await readFile(join(out, 'seen'), 'utf8')).toBe('term\n');
    expect(removed.ms).toBeGreaterThanOrEqual(1000);
  });

  it('a changed hook recreates the container, its old preStop running first though it fails; a grace period of 0 skips preStop', async () => {
    const dir = await manifests('change');
    const out = await outDir('change');
    const yaml = (version: string, grace: number, name = 'change') =>
      podYaml(name, {
        grace,
        containers:
          `    - name: main\n      image: ${image}\n` +
          // (`zero` writes nothing on TERM: at grace 0 whether its handler runs before SIGKILL is a race.)
          (name === 'zero'
            ? '      command: [sleep, "100000"]\n'
            : `      command: [sh, -c, "trap 'echo term >> /out/log-${name}; exit 0' TERM; while true; do sleep 0.1; done"]\n`) +
          `      lifecycle: {preStop: {exec: {command: [sh, -c, "echo prestop-${version} >> /out/log-${name}; exit 3"]}}}\n` +
          `      volumeMounts: [{name: out, mountPath: /out}]\n`,
        volumes: `    - {name: out, hostPath: {path: ${out}}}\n`,
      });
    await writeFile(join(dir, 'change.yaml'), yaml('v1', 5));
    await applied(dir);
    const before = (await pod('change'))?.containers[0]?.pid;
    await writeFile(join(dir, 'change.yaml'), yaml('v2', 5));
    const plan = await berth('plan', dir);
    expect(plan.stdout.split('\n').filter((l) => l.includes('change/main'))).toEqual([
      'remove       change/main: lifecycle changed',
      'run          change/main: lifecycle changed',
    ]);
    await applied(dir);
    const after = await pod('change');
    expect([after?.containers[0]?.state, after?.containers[0]?.pid === before]).toEqual(['running', false]);
    // The old preStop ran (exit 3 does not stop the stop), then the stop signal reached the old process.
    expect(await readFile(join(out, 'log-change'), 'utf8')).toBe('prestop-v1\nterm\n');
    // With a grace period of 0 no preStop runs (its line would be the only thing in log-zero).
    await writeFile(join(dir, 'zero.yaml'), yaml('v1', 0, 'zero'));
    await applied(dir);
    expect((await pod('zero'))?.containers[0]?.state).toBe('running');
    expect((await removePod(dir, 'zero')).code).toBe(0);
    expect(existsSync(join(out, 'log-zero'))).toBe(false);
    expect((await removePod(dir, 'change')).code).toBe(0);
    expect(await readFile(join(out, 'log-change'), 'utf8')).toBe('prestop-v1\nterm\nprestop-v2\nterm\n');
  }, 180_000);

  it('an httpGet preStop reaches a busybox httpd in the pod, by the named port', async () => {
    const dir = await manifests('http');
    const out = await outDir('http');
    const www = await outDir('www');
    await mkdir(join(www, 'cgi-bin'));
    await writeFile(
      join(www, 'cgi-bin', 'hook'),
      '#!/bin/sh\necho "$REQUEST_METHOD $REQUEST_URI" > /out/hit\nprintf "Content-Type: text/plain\\r\\n\\r\\nok\\n"\n',
      { mode: 0o755 },
    );
    const yaml = (env: string) =>
      podYaml('http', {
        grace: 5,
        containers:
          `    - name: web\n      image: ${image}\n      command: [httpd, -f, -p, "8080", -h, /www]\n` +
          `      volumeMounts: [{name: out, mountPath: /out}, {name: www, mountPath: /www}]\n` +
          `    - name: main\n      image: ${image}\n      command: [sleep, "1000"]\n` +
          `      env: [{name: V, value: "${env}"}]\n` +
          `      ports: [{name: web, containerPort: 8080}]\n` +
          `      lifecycle: {preStop: {httpGet: {port: web, path: /cgi-bin/hook?from=prestop}}}\n`,
        volumes: `    - {name: out, hostPath: {path: ${out}}}\n    - {name: www, hostPath: {path: ${www}}}\n`,
      });
    await writeFile(join(dir, 'http.yaml'), yaml('1'));
    await applied(dir);
    // A change of main alone: main is stopped (its preStop calls web) and started again.
    await writeFile(join(dir, 'http.yaml'), yaml('2'));
    await applied(dir);
    expect(await readFile(join(out, 'hit'), 'utf8')).toBe('GET /cgi-bin/hook?from=prestop\n');
    expect((await removePod(dir, 'http')).code).toBe(0);
  });

  it('hostile: a postStart that forks a daemon and exits holds its pod no longer than its bound; the daemon goes with the container', async () => {
    const dir = await manifests('forker');
    const marker = ['sleep', '2468013'];
    await writeFile(
      join(dir, 'forker.yaml'),
      podYaml('forker', {
        grace: 3,
        policy: 'Never',
        containers:
          `    - name: main\n      image: ${image}\n      command: [sleep, "1000"]\n` +
          `      lifecycle: {postStart: {exec: {command: [sh, -c, "${marker.join(' ')} & exit 0"]}}}\n`,
        volumes: '    []\n',
      }),
    );
    const started = Date.now();
    await berth('apply', dir);
    // Whatever the exec handler makes of the daemon's open output, the apply ends: the hook's bound
    // (3 s) and its slack (3 s), the stop (2 s), with margin for a loaded host.
    expect(Date.now() - started).toBeLessThan(25_000);
    expect((await removePod(dir, 'forker')).code).toBe(0);
    expect(await processesRunning(marker)).toEqual([]);
  });

  it('a postStart that leaves a background process holding its output succeeds at its exit; the process runs on in the container', async () => {
    const dir = await manifests('bg');
    const marker = ['sleep', '2468014'];
    await writeFile(
      join(dir, 'bg.yaml'),
      podYaml('bg', {
        grace: 8,
        containers:
          `    - name: main\n      image: ${image}\n      command: [sleep, "1000"]\n` +
          `      lifecycle: {postStart: {exec: {command: [sh, -c, "${marker.join(' ')} & echo started"]}}}\n`,
        volumes: '    []\n',
      }),
    );
    const r = await berth('apply', dir);
    const ended = Date.now();
    expect([r.code, r.stderr]).toEqual([0, '']);
    // Judged at the hook's exit, not timed out at the grace period (8 s) for the open pipe. The hook
    // runs once the container has started (its startedAt), so one timed out ends 8 s past that at
    // least; what comes before (the CLI's start, the create and its mounts) is not counted: on a
    // loaded host it alone can take some seconds.
    const all = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
      name: string;
      startedAt: string | null;
    }>;
    const startedAt = Date.parse(all.find((c) => c.name === 'bg_main')?.startedAt ?? '');
    expect(Number.isNaN(startedAt)).toBe(false);
    expect(ended - startedAt).toBeLessThan(8000);
    expect((await pod('bg'))?.containers.map((c) => [c.name, c.state, c.restarts, c.lastError])).toEqual([
      ['main', 'running', 0, null],
    ]);
    expect((await processesRunning(marker)).length).toBe(1);
    expect((await removePod(dir, 'bg')).code).toBe(0);
    expect(await processesRunning(marker)).toEqual([]);
  });

  it('hostile: a postStart that never exits fails at the grace period, and leaves no process', async () => {
    const dir = await manifests('never');
    const marker = ['sleep', '9753197'];
    await writeFile(
      join(dir, 'never.yaml'),
      podYaml('never', {
        grace: 2,
        policy: 'Never',
        containers:
          `    - name: main\n      image: ${image}\n      command: [sleep, "1000"]\n` +
          `      lifecycle: {postStart: {exec: {command: [${quoted(marker)}]}}}\n`,
        volumes: '    []\n',
      }),
    );
    const r = await berth('apply', dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'failed run          never/main: new container: ERR_POSTSTART_HOOK: postStart hook failed: timed out after 2 s\n',
    );
    expect((await pod('never'))?.containers.map((c) => c.state)).toEqual(['exited']);
    expect(await processesRunning(marker)).toEqual([]);
    expect((await removePod(dir, 'never')).code).toBe(0);
  });

  it('hostile: a hook with a huge output runs to its end; a failure reports one bounded line', async () => {
    const dir = await manifests('loud');
    await writeFile(
      join(dir, 'loud.yaml'),
      podYaml('loud', {
        grace: 20,
        policy: 'Never',
        containers:
          `    - name: main\n      image: ${image}\n      command: [sleep, "1000"]\n` +
          `      lifecycle: {postStart: {exec: {command: [sh, -c, "yes abcdefghij | head -c 20000000; exit 3"]}}}\n`,
        volumes: '    []\n',
      }),
    );
    const r = await berth('apply', dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'failed run          loud/main: new container: ERR_POSTSTART_HOOK: postStart hook failed: exit code 3: abcdefghij\n',
    );
    expect((await removePod(dir, 'loud')).code).toBe(0);
    // 20 s of it is the grace period the failed container is stopped in (its sleep ignores SIGTERM as
    // pid 1); the 20 MB through conmon took 40 s more on a CI host loaded with other test files.
  }, 150_000);
});
