// Events and metrics of real containers under `berth daemon`: a container that exits is reported
// as died with its exit code, then restarted; `berth events --filter pod=…` selects them; the
// metrics show its restarts and a running container's cgroup CPU and memory. conmon and the
// containers do not inherit NOTIFY_SOCKET (it is the daemon's alone). A container killed with its
// conmon (no exit recorded) is reported Lost, then restarted; a start that fails is StartFailed; a
// pull that fails is PullFailed; an OOM kill is OOMKilled.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { CLI, runBerth, testEnv, withTestConfig } from '../helpers/cli.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { type NotifyListener, startNotifyListener } from '../helpers/notify-listener.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(
  ['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'python3', 'systemd-notify'],
  {
    root: true,
  },
);

describe.skipIf(skip)('events and metrics of containers', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let root: string;
  let state: string;
  let daemon: ChildProcess | undefined;
  let listener: NotifyListener | undefined;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const until = async (what: string, probe: () => Promise<boolean>, ms = 90_000) => {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      if (await probe()) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`never: ${what}`);
  };
  const metrics = () => apiGet('/metrics');
  const apiGet = (path: string) =>
    new Promise<string>((resolve, reject) => {
      request({ socketPath: join(state, 'berth.sock'), path }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve(body));
      })
        .on('error', reject)
        .end();
    });
  const events = async (...args: string[]) =>
    (await berth('events', '--until', '0s', '--output', 'json', ...args)).stdout
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as {
            type: string;
            object: string;
            reason: string;
            attributes?: Record<string, unknown>;
          },
      );

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-events-e2e-'));
    root = join(work, 'root');
    state = join(work, 'state');
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    await pushImage(layout, 'busybox', `${registry.host}/demo/busybox:1`);
  }, 180_000);
  afterAll(async () => {
    if (daemon?.exitCode === null) {
      const exited = new Promise((r) => daemon?.once('exit', r));
      daemon.kill('SIGTERM');
      await exited;
    }
    listener?.close();
    const { left, leaked } = await cleanUpHost({
      berth,
      work,
      folders: [join(work, 'manifests'), join(work, 'oom-manifests')],
    });
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it('died with its exit code, restarted, filtered by pod; restarts and usage in /metrics', async () => {
    const dir = join(work, 'manifests');
    await mkdir(dir);
    const pod = (name: string, script: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n` +
      `    - name: main\n      image: ${registry.host}/demo/busybox:1\n      command: ["/bin/sh", "-c", "${script}"]\n`;
    await writeFile(
      join(dir, 'steady.yaml'),
      pod('steady', "trap 'exit 0' TERM; while true; do sleep 1; done"),
    );
    await writeFile(join(dir, 'crash.yaml'), pod('crash', 'sleep 1; exit 3'));
    listener = await startNotifyListener({ dir: work });
    daemon = spawn(
      process.execPath,
      [
        CLI,
        ...withTestConfig(['--root', root, '--state', state, 'daemon', '--manifests', dir, '--resync', '2']),
      ],
      {
        env: testEnv({ NOTIFY_SOCKET: listener.socket }),
        stdio: 'ignore',
      },
    );
    await until(
      'crash restarted',
      async () => (await events('--filter', 'pod=crash', '--filter', 'reason=Restarted')).length > 0,
    );
    const crash = (await events('--filter', 'pod=crash', '--filter', 'type=container')).map(
      (e) => `${e.object} ${e.reason}`,
    );
    // Started, then at least one death with its exit code before its restart.
    expect(crash.slice(0, 3)).toEqual(['crash/main Started', 'crash/main Died', 'crash/main Restarted']);
    const died = (await events('--filter', 'pod=crash', '--filter', 'reason=Died'))[0];
    expect(died?.attributes).toMatchObject({ pod: 'crash', container: 'main', exitCode: 3 });
    const pulls = await events('--filter', 'type=image');
    expect(pulls.map((e) => `${e.object} ${e.reason}`)).toEqual([`${registry.host}/demo/busybox:1 Pulled`]);
    expect((await events('--filter', 'pod=steady')).map((e) => `${e.object} ${e.reason}`)).toEqual([
      'steady SetUp',
      'steady/main Started',
    ]);

    const text = await metrics();
    expect(text).toMatch(/^berth_container_restarts_total\{pod="crash",container="main"\} [1-9]\d*$/m);
    expect(text).toMatch(/^berth_container_restarts_total\{pod="steady",container="main"\} 0$/m);
    expect(text).toMatch(
      /^berth_container_cpu_seconds_total\{pod="steady",container="main"\} \d+(\.\d+)?(e-\d+)?$/m,
    );
    expect(text).toMatch(/^berth_container_memory_bytes\{pod="steady",container="main"\} [1-9]\d*$/m);
    expect(text).toMatch(/^berth_image_pulls_total\{result="success"\} 1$/m);
    expect(text).toMatch(/^berth_image_pull_bytes_total [1-9]\d*$/m);

    // conmon (the container's parent) did not inherit the daemon's NOTIFY_SOCKET.
    const pods = JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
    const pid = pods.find((p) => p.name === 'steady')?.containers[0]?.pid as number;
    const conmon = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
    for (const p of [pid, conmon]) {
      const env = readFileSync(`/proc/${p}/environ`, 'utf8').split('\0');
      expect(env.filter((v) => v.startsWith('NOTIFY_SOCKET=') || v.startsWith('WATCHDOG_'))).toEqual([]);
    }
    const exited = new Promise((r) => daemon?.once('exit', r));
    daemon.kill('SIGTERM');
    await exited;
    await rm(join(dir, 'steady.yaml'));
    await rm(join(dir, 'crash.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
    // A local apply records what it did too.
    const removed = await events('--filter', 'reason=Removed', '--filter', 'type=container');
    expect(removed.map((e) => e.object).sort()).toEqual(['crash/main', 'steady/main']);
  }, 180_000);

  it('a container whose monitor was killed with it ended without an exit code: Lost, then restarted', async () => {
    const dir = join(work, 'manifests');
    await writeFile(
      join(dir, 'lost.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: lost}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n` +
        `    - name: main\n      image: ${registry.host}/demo/busybox:1\n      command: [sleep, "100000"]\n`,
    );
    daemon = spawn(
      process.execPath,
      [
        CLI,
        ...withTestConfig(['--root', root, '--state', state, 'daemon', '--manifests', dir, '--resync', '1']),
      ],
      { env: testEnv(), stdio: 'ignore' },
    );
    const status = () =>
      new Promise<{ lastPass: { at: string } | null }>((resolve, reject) => {
        request({ socketPath: join(state, 'berth.sock'), path: '/v1/status' }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c.toString();
          });
          res.on('end', () => resolve(JSON.parse(body)));
        })
          .on('error', reject)
          .end();
      });
    await until('lost started', async () => (await events('--filter', 'pod=lost')).length >= 2);
    // Two more passes: the daemon has seen it running.
    for (let i = 0; i < 2; i++) {
      const at = (await status()).lastPass?.at;
      await until('a pass', async () => (await status()).lastPass?.at !== at);
    }
    const pods = JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
    const pid = pods.find((p) => p.name === 'lost')?.containers[0]?.pid as number;
    const conmon = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
    process.kill(conmon, 'SIGKILL'); // first, so nobody records the exit
    process.kill(pid, 'SIGKILL');
    await until(
      'lost reported',
      async () => (await events('--filter', 'pod=lost', '--filter', 'reason=Restarted')).length > 0,
    );
    const seen = (await events('--filter', 'pod=lost')).map((e) => `${e.object} ${e.reason}`);
    expect(seen).toEqual(['lost SetUp', 'lost/main Started', 'lost/main Lost', 'lost/main Restarted']);
    const lost = (await events('--filter', 'reason=Lost'))[0]; // no exitCode: none was recorded
    expect(lost?.attributes).toEqual({ pod: 'lost', container: 'main', id: lost?.attributes?.id });
    const exited = new Promise((r) => daemon?.once('exit', r));
    daemon.kill('SIGTERM');
    await exited;
    await rm(join(dir, 'lost.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  }, 120_000);

  it('apply records a start that failed (StartFailed, with the code) and a pod that went (Removed)', async () => {
    const dir = join(work, 'manifests');
    await writeFile(
      join(dir, 'broken.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: broken}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n` +
        `    - name: main\n      image: ${registry.host}/demo/busybox:1\n      command: [/no/such/command]\n`,
    );
    expect((await berth('apply', dir)).code).toBe(1);
    const failed = await events('--filter', 'pod=broken');
    expect(failed.map((e) => `${e.type} ${e.object} ${e.reason}`)).toEqual([
      'pod broken SetUp',
      'container broken/main StartFailed',
    ]);
    expect((failed[1] as { message?: string }).message).toMatch(/: ERR_COMMAND_NOT_FOUND: /);
    await rm(join(dir, 'broken.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
    expect(
      (await events('--filter', 'pod=broken', '--filter', 'type=pod')).map((e) => `${e.object} ${e.reason}`),
    ).toEqual(['broken SetUp', 'broken Removed']);
  }, 60_000);

  it('a pull that fails is PullFailed with its code; a container the OOM killer ends is OOMKilled, under the daemon', async () => {
    const dir = join(work, 'oom-manifests');
    const out = join(work, 'oom-out');
    await mkdir(dir);
    await mkdir(out);
    const absent = `${registry.host}/demo/absent:1`;
    await writeFile(
      join(dir, 'nopull.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: nopull}\nspec:\n  containers:\n    - name: main\n      image: ${absent}\n`,
    );
    expect((await berth('apply', dir)).code).toBe(1);
    const pullFailed = await events('--filter', 'reason=PullFailed');
    expect(pullFailed.map((e) => [e.type, e.object, e.reason, e.attributes])).toEqual([
      ['image', absent, 'PullFailed', { for: 'nopull/main' }],
    ]);
    expect((pullFailed[0] as { message?: string }).message).toBe(
      `${absent}: not in the store (nopull/main): ERR_MANIFEST_NOT_FOUND: ${absent}: manifest not found`,
    );
    await rm(join(dir, 'nopull.yaml'));
    // The OOM killer: the container runs (a pass sees it running), then allocates past its limit.
    await writeFile(
      join(dir, 'oom.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: oom}\nspec:\n  terminationGracePeriodSeconds: 1\n  restartPolicy: Never\n  containers:\n` +
        `    - name: main\n      image: ${registry.host}/demo/busybox:1\n      resources: {limits: {memory: 16Mi}}\n` +
        `      command: [sh, -c, "while [ ! -f /out/go ]; do sleep 0.05; done; x=$$(head -c 64000000 /dev/zero | tr '\\\\0' a); echo survived"]\n` +
        `      volumeMounts: [{name: out, mountPath: /out}]\n  volumes:\n    - name: out\n      hostPath: {path: ${out}}\n`,
    );
    const oomDaemon = spawn(
      process.execPath,
      [
        CLI,
        ...withTestConfig(['--root', root, '--state', state, 'daemon', '--manifests', dir, '--resync', '1']),
      ],
      { env: testEnv(), stdio: 'ignore' },
    );
    try {
      await until(
        'oom started',
        async () => (await events('--filter', 'pod=oom', '--filter', 'reason=Started')).length > 0,
      );
      // Two passes after ps saw it running (the second began after it ran), so the daemon has observed it running.
      await until('running', async () => {
        const pods = JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
        return pods.find((p) => p.name === 'oom')?.containers[0]?.state === 'running';
      });
      const passAt = async () =>
        (JSON.parse(await apiGet('/v1/status')) as { lastPass: { at: string } | null }).lastPass?.at ?? '';
      const seen = new Set([await passAt()]);
      await until('two passes since', async () => {
        seen.add(await passAt());
        return seen.size >= 3;
      });
      await writeFile(join(out, 'go'), '');
      await until(
        'OOMKilled',
        async () => (await events('--filter', 'pod=oom', '--filter', 'reason=OOMKilled')).length > 0,
      );
      const oom = await events('--filter', 'pod=oom', '--filter', 'type=container');
      expect(oom.map((e) => [e.object, e.reason, e.attributes])).toEqual([
        ['oom/main', 'Started', { pod: 'oom', container: 'main', restarts: 0 }],
        [
          'oom/main',
          'OOMKilled',
          { pod: 'oom', container: 'main', id: expect.any(String), exitCode: 137, oomKilled: true },
        ],
      ]);
    } finally {
      const exited = new Promise((r) => oomDaemon.once('exit', r));
      oomDaemon.kill('SIGTERM');
      await exited;
    }
    await rm(join(dir, 'oom.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  }, 300_000);
});
