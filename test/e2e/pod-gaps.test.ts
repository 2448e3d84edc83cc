// Pod fields that need the runtime's help, end to end as root with real runc, conmon, overlayfs and
// the CNI plugins on a bridge of this test's own: status.podIP(s) in env, $(VAR) and args is the address the pod got on the network (as ps and the container's own interface say),
// and the host's with hostNetwork; activeDeadlineSeconds stops a pod under the daemon when it is
// due (grace period, Failed, DeadlineExceeded), never to be restarted by a later berth, until its
// manifest changes; tty: true gives the process a terminal (conmon's), its output in the log.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { removeBridgeLockFile } from '../helpers/network-kept.js';
import { BRIDGE_POD_PREREQS, missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(BRIDGE_POD_PREREQS, { root: true });

const NET = `pg-${randomBytes(3).toString('hex')}`;
const BRIDGE = `bp${randomBytes(3).toString('hex')}`;
const SUBNET = `10.${randomInt(100, 250)}.${randomInt(0, 256)}.0/24`;

describe.skipIf(skip)('pod fields the runtime completes', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let dir: string;
  let root: string;
  let state: string;
  let config: string;
  let image: string;
  const berth = (...args: string[]) =>
    runBerth(['--root', root, '--state', state, '--config', config, ...args]);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const exec = async (container: string, ...cmd: string[]) => {
    const r = await berth('container', 'exec', container, '--', ...cmd);
    expect(r.stderr).toBe('');
    return r.stdout;
  };

  let daemon: ReturnType<typeof spawnBerth> | undefined;
  const startDaemon = () => {
    daemon = spawnBerth(['--root', root, '--state', state, '--config', config, 'daemon', '--manifests', dir]);
  };
  const stopDaemon = async () => {
    const d = daemon;
    daemon = undefined;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    const gone = new Promise((r) => d.once('exit', r));
    d.kill('SIGTERM');
    await gone;
  };
  /** The pod's view once `done` holds of it, within a bound. */
  const podWhen = async (name: string, done: (p: PodView | undefined) => boolean) => {
    let pod: PodView | undefined;
    for (let i = 0; i < 200 && !done(pod); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      pod = (await ps()).find((p) => p.name === name);
    }
    return pod;
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-podgaps-'));
    root = join(work, 'root');
    state = join(work, 'state');
    dir = join(work, 'manifests');
    config = join(work, 'config.yaml');
    await writeFile(config, `network: {name: ${NET}, bridge: ${BRIDGE}, subnet: ${SUBNET}}\n`);
    await mkdir(dir);
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    image = `${registry.host}/demo/busybox:1`;
    await pushImage(layout, 'busybox', image);
  }, 180_000);
  afterAll(async () => {
    await stopDaemon();
    const { leaked } = await cleanUpHost({ berth, work, folders: [dir] });
    // The bridge and its rules stay after the last pod: the test's network is taken away with it.
    const removed = await berth('network', 'rm', NET);
    const bridgeLeft = existsSync(`/sys/class/net/${BRIDGE}`);
    await removeBridgeLockFile(BRIDGE);
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
    expect(leaked).toEqual([]);
    expect([removed.code, removed.stderr, bridgeLeft]).toEqual([0, '', false]);
  });

  const addressPod = (name: string, spec = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 0
${spec}  containers:
    - name: main
      image: ${image}
      command: [sh, -c, "echo args=$(POD_IP); exec sleep 100000"]
      env:
        - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
        - {name: POD_IPS, valueFrom: {fieldRef: {fieldPath: status.podIPs}}}
        - {name: URL, value: "http://$(POD_IP):8080/"}
`;

  it('a bridge pod sees its own address in env, $(VAR) and args', async () => {
    await writeFile(join(dir, 'addr.yaml'), addressPod('addr'));
    const apply = await berth('apply', dir);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    const ip = (await ps()).find((p) => p.name === 'addr')?.ip as string;
    expect(ip).toMatch(new RegExp(`^${SUBNET.split('.').slice(0, 3).join('\\.')}\\.\\d+$`));
    const env = await exec('addr_main', 'sh', '-c', 'echo "$POD_IP|$POD_IPS|$URL"');
    expect(env).toBe(`${ip}|${ip}|http://${ip}:8080/\n`);
    const own = await exec('addr_main', 'sh', '-c', "ip -4 -o addr show eth0 | awk '{print $4}'");
    expect(own).toBe(`${ip}/${SUBNET.split('/')[1]}\n`);
    expect((await berth('logs', 'addr')).stdout).toBe(`args=${ip}\n`);
    // Known now, the address changes nothing: the next pass has nothing to do.
    expect((await berth('plan', dir)).code).toBe(0);
    await rm(join(dir, 'addr.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  });

  it('a hostNetwork pod gets the host address, as in Kubernetes', async () => {
    await writeFile(join(dir, 'hostaddr.yaml'), addressPod('hostaddr', '  hostNetwork: true\n'));
    const apply = await berth('apply', dir);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    const host =
      Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? '';
    expect(host).not.toBe('');
    const env = await exec('hostaddr_main', 'sh', '-c', 'echo "$POD_IP|$POD_IPS"');
    expect(env).toBe(`${host}|${host}\n`);
    await rm(join(dir, 'hostaddr.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
    // Nothing of it on the bridge (kept from the bridge pod before it): no veth.
    expect(execFileSync('ip', ['-o', 'link', 'show', 'master', BRIDGE]).toString()).toBe('');
  });

  it('hostPath types: a socket is mounted, FileOrCreate makes its file, no type makes a missing directory, a missing socket fails the create and says so', async () => {
    const sock = join(work, 'api.sock');
    // No type: a missing path is made a directory, as containerd's CRI does for the kubelet.
    const made = join(work, 'untyped', 'logs');
    const server = createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    const lock = join(work, 'xtables.lock');
    const typed = (name: string, socket: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 0
  containers:
    - name: main
      image: ${image}
      command: [sh, -c, "test -S /run/api.sock && test -f /run/xtables.lock && test -d /run/made && echo ok; exec sleep 100000"]
      volumeMounts: [{name: s, mountPath: /run/api.sock}, {name: l, mountPath: /run/xtables.lock}, {name: m, mountPath: /run/made}]
  volumes:
    - {name: s, hostPath: {path: ${socket}, type: Socket}}
    - {name: l, hostPath: {path: ${lock}, type: FileOrCreate}}
    - {name: m, hostPath: {path: ${made}}}
`;
    try {
      await writeFile(join(dir, 'typed.yaml'), typed('typed', sock));
      const apply = await berth('apply', dir);
      expect([apply.code, apply.stderr]).toEqual([0, '']);
      expect((await stat(lock)).isFile()).toBe(true);
      const madeStat = await stat(made);
      expect([madeStat.isDirectory(), madeStat.mode & 0o777]).toEqual([true, 0o755]);
      for (let i = 0; i < 100 && (await berth('logs', 'typed')).stdout !== 'ok\n'; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect((await berth('logs', 'typed')).stdout).toBe('ok\n');
      const missing = join(work, 'missing.sock');
      await writeFile(join(dir, 'typed2.yaml'), typed('typed2', missing));
      const second = await berth('apply', dir);
      expect(second.stderr).toContain(
        `ERR_HOSTPATH_TYPE: pod typed2: hostPath ${missing} (type Socket) does not exist: it must be a socket`,
      );
      expect((await ps()).find((p) => p.name === 'typed2')?.containers[0]?.state).toBe('waiting');
    } finally {
      server.close();
      await rm(join(dir, 'typed.yaml'), { force: true });
      await rm(join(dir, 'typed2.yaml'), { force: true });
      await berth('apply', dir);
    }
  });

  it('activeDeadlineSeconds: stopped when due (grace period), Failed DeadlineExceeded, not restarted until the manifest changes', async () => {
    const out = join(work, 'deadline-out');
    const deadlinePod = (version: string) => `apiVersion: v1
kind: Pod
metadata: {name: due}
spec:
  activeDeadlineSeconds: 2
  terminationGracePeriodSeconds: 5
  restartPolicy: Always
  containers:
    - name: main
      image: ${image}
      command: [sh, -c, "date +%s >> /out/starts; trap 'echo stopped >> /out/stops; exit 0' TERM; while true; do sleep 0.1; done"]
      env: [{name: VERSION, value: "${version}"}]
      volumeMounts: [{name: out, mountPath: /out}]
  volumes:
    - name: out
      hostPath: {path: ${out}, type: DirectoryOrCreate}
`;
    await writeFile(join(dir, 'due.yaml'), deadlinePod('1'));
    startDaemon();
    const running = await podWhen('due', (p) => p?.phase === 'Running');
    expect(running?.phase).toBe('Running');
    // Failed as soon as the pass decides it; its container is stopped by the task that pass started.
    const failed = await podWhen(
      'due',
      (p) => p?.phase === 'Failed' && p.containers.every((c) => c.state === 'exited'),
    );
    const stoppedAt = Date.now() / 1000;
    expect([failed?.phase, failed?.reason]).toEqual(['Failed', 'DeadlineExceeded']);
    // Stopped with its grace period (its TERM trap ran), kept as it ended, not restarted.
    expect(failed?.containers.map((c) => [c.name, c.state, c.exitCode, c.restarts])).toEqual([
      ['main', 'exited', 0, 0],
    ]);
    expect(await readFile(join(out, 'stops'), 'utf8')).toBe('stopped\n');
    const started = Number((await readFile(join(out, 'starts'), 'utf8')).trim());
    expect(stoppedAt - started).toBeGreaterThanOrEqual(1); // whole seconds from `date`
    // Another berth (the daemon restarted, then a plan) knows the pod's start: nothing to run.
    await stopDaemon();
    startDaemon();
    const plan = await berth('plan', dir);
    expect(plan.stdout).toMatch(
      /due: DeadlineExceeded: active for 2 s \(activeDeadlineSeconds\); not started again until its manifest changes/,
    );
    expect(plan.stdout).not.toMatch(/^run/m);
    await stopDaemon();
    expect((await readFile(join(out, 'starts'), 'utf8')).split('\n').filter(Boolean)).toHaveLength(1);
    // A changed manifest (its container with it) is a new pod: it runs again, with a new clock.
    await writeFile(join(dir, 'due.yaml'), deadlinePod('2'));
    const apply = await berth('apply', dir);
    expect(apply.stderr).toBe('');
    expect((await ps()).find((p) => p.name === 'due')?.phase).toBe('Running');
    expect((await readFile(join(out, 'starts'), 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
    await rm(join(dir, 'due.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  });

  it('tty: the process has a terminal from conmon, and what it prints is in the log', async () => {
    await writeFile(
      join(dir, 'term.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: term}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n` +
        `    - name: main\n      image: ${image}\n      tty: true\n` +
        `      command: [sh, -c, "if [ -t 1 ]; then echo out-is-a-tty; fi; if [ -t 0 ]; then echo in-is-a-tty; fi; tty; exec sleep 100000"]\n` +
        `    - name: plain\n      image: ${image}\n` +
        `      command: [sh, -c, "if [ -t 1 ]; then echo out-is-a-tty; else echo no-tty; fi; exec sleep 100000"]\n`,
    );
    const apply = await berth('apply', dir);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    const logs = async (c: string) => (await berth('logs', `term/${c}`)).stdout;
    for (let i = 0; i < 50 && !(await logs('main')).includes('/dev/'); i++)
      await new Promise((r) => setTimeout(r, 100));
    // Through a terminal every line ends in \r\n (its ONLCR), as `kubectl logs` shows it too.
    expect(await logs('main')).toBe('out-is-a-tty\r\nin-is-a-tty\r\n/dev/pts/0\r\n');
    expect(await logs('plain')).toBe('no-tty\n');
    await rm(join(dir, 'term.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  });
});
