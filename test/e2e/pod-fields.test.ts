// Pod fields end to end, as root, with real runc, conmon and overlayfs: runAsNonRoot refuses an
// image that runs as root (checked against the image's user, as the kubelet does); a container its
// own settings refuse at create though a cluster takes its file (runAsUser 0 under runAsNonRoot, a
// relative workingDir, an env resourceFieldRef to no container) waits with its error while the
// pod's other container runs, as the kubelet's CreateContainerConfigError; fsGroup owns the
// pod's emptyDir (group, setgid) and is one of the process's groups; a native sidecar starts after
// the init container before it and before the app, runs beside the app, and stops after it; what a
// container writes at its terminationMessagePath is its termination message in ps; a Localhost
// seccomp profile is loaded from <root>/seccomp/; a pod in a namespace is named NAMESPACE.NAME, with
// its sysctls and hostPID/hostIPC in effect; an emptyDir's mode is the volume's mode in the container;
// hostnameOverride is the hostname the pod sees; mountPaths `/data` and `/data/` both mount, the later
// over the earlier.
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth } from '../helpers/cli.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('pod fields', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let dir: string;
  let root: string;
  let state: string;
  let image: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const hostPortStart = readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-podsec-'));
    root = join(work, 'root');
    state = join(work, 'state');
    dir = join(work, 'manifests');
    await mkdir(dir);
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    image = `${registry.host}/demo/busybox:1`;
    await pushImage(layout, 'busybox', image);
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await cleanUpHost({ berth, work, folders: [dir] });
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
    expect(leaked).toEqual([]);
  });

  it('runAsNonRoot refuses an image whose user is root: no container runs, ps says why', async () => {
    await writeFile(
      join(dir, 'nonroot.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: nonroot}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
        `  securityContext: {runAsNonRoot: true}\n  containers:\n` +
        `    - name: main\n      image: ${image}\n      command: [sleep, "1000"]\n`,
    );
    const apply = await berth('apply', dir);
    expect(apply.code).toBe(1);
    const pod = (await ps()).find((p) => p.name === 'nonroot');
    expect(pod?.containers.map((c) => [c.name, c.state, c.pid])).toEqual([['main', 'waiting', null]]);
    expect(pod?.containers[0]?.lastError).toBe(
      "ERR_RUN_AS_ROOT: container nonroot_main: runAsNonRoot is set and it would run as root (uid 0, from the image's user) (set runAsUser to a non-zero uid, or use an image with a non-root USER)",
    );
    // The same pod with a non-root user runs.
    await writeFile(
      join(dir, 'nonroot.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: nonroot}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
        `  securityContext: {runAsNonRoot: true, runAsUser: 1000}\n  containers:\n` +
        `    - name: main\n      image: ${image}\n      command: [sleep, "1000"]\n`,
    );
    expect((await berth('apply', dir)).code).toBe(0);
    const again = (await ps()).find((p) => p.name === 'nonroot');
    expect(again?.containers.map((c) => [c.name, c.state])).toEqual([['main', 'running']]);
    await rm(join(dir, 'nonroot.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  });

  it("a container its own settings refuse at create waits with its error; its file loads and the pod's other container runs", async () => {
    const bad: Record<string, string> = {
      ref: '      env:\n        - name: CPU\n          valueFrom: {resourceFieldRef: {containerName: nope, resource: limits.cpu}}\n',
      workdir: '      workingDir: app\n',
      zero: '      securityContext: {runAsNonRoot: true, runAsUser: 0}\n',
    };
    const container = (name: string, extra = '') =>
      `    - name: ${name}\n      image: ${image}\n      command: [sleep, "1000"]\n${extra}`;
    for (const [name, extra] of Object.entries(bad))
      await writeFile(
        join(dir, `cfg-${name}.yaml`),
        `apiVersion: v1\nkind: Pod\nmetadata: {name: cfg-${name}}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
          `  containers:\n${container('bad', extra)}${container('good')}`,
      );
    const apply = await berth('apply', dir);
    expect([apply.code, apply.stderr]).toEqual([1, expect.stringContaining('ERR_CONTAINER_CONFIG')]);
    const pods = (await ps()).filter((p) => p.name.startsWith('cfg-'));
    expect(pods.map((p) => [p.name, p.containers.map((c) => [c.name, c.state, c.lastError])])).toEqual([
      [
        'cfg-ref',
        [
          [
            'bad',
            'waiting',
            'ERR_CONTAINER_CONFIG: container bad: env CPU: resourceFieldRef names container "nope", which is not in the pod (fix it in the manifest: the pod\'s other containers run meanwhile)',
          ],
          ['good', 'running', null],
        ],
      ],
      [
        'cfg-workdir',
        [
          ['bad', 'waiting', 'ERR_CONTAINER_INVALID: working directory "app" is not an absolute path'],
          ['good', 'running', null],
        ],
      ],
      [
        'cfg-zero',
        [
          [
            'bad',
            'waiting',
            'ERR_RUN_AS_ROOT: container cfg-zero_bad: runAsNonRoot is set and it would run as root (uid 0, from runAsUser) (set runAsUser to a non-zero uid, or use an image with a non-root USER)',
          ],
          ['good', 'running', null],
        ],
      ],
    ]);
    for (const name of Object.keys(bad)) await rm(join(dir, `cfg-${name}.yaml`));
    expect((await berth('apply', dir)).code).toBe(0);
  });

  it('fsGroup owns the emptyDir (group, setgid) and is one of the process groups; requests and a tmpfs sizeLimit apply', async () => {
    await writeFile(
      join(dir, 'fsgroup.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: fsgroup}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
        `  restartPolicy: Never\n  securityContext: {runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000]}\n` +
        `  containers:\n    - name: main\n      image: ${image}\n` +
        `      command: [sh, -c, "id -u; id -g; id -G; touch /data/f && stat -c '%g %a' /data /data/f; df -k /fast | tail -1 | awk '{print $2}'"]\n` +
        `      resources: {requests: {cpu: 250m, memory: 8Mi}}\n` +
        `      volumeMounts: [{name: data, mountPath: /data}, {name: fast, mountPath: /fast}]\n` +
        `  volumes:\n    - name: data\n    - {name: fast, emptyDir: {medium: Memory, sizeLimit: 8Mi}}\n`,
    );
    expect((await berth('apply', dir)).code).toBe(0);
    const deadline = Date.now() + 20_000;
    let pod: PodView | undefined;
    while (Date.now() < deadline) {
      pod = (await ps()).find((p) => p.name === 'fsgroup');
      if (pod?.phase === 'Succeeded' || pod?.phase === 'Failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const logs = await berth('logs', 'fsgroup');
    expect(pod?.phase).toBe('Succeeded');
    // A tmpfs of 8Mi (8192 KiB); the requests are accepted by runc (the container ran).
    expect(logs.stdout).toBe('1000\n3000\n3000 2000 4000\n2000 2777\n2000 644\n8192\n');
    const st = await stat(join(root, 'pods', 'fsgroup', 'volumes', 'data'));
    expect([st.gid, (st.mode & 0o7777).toString(8)]).toEqual([2000, '2777']);
    await rm(join(dir, 'fsgroup.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  });

  it('emptyDir.mode is the mode of the volume in the container (01777: a sticky /tmp); without it 0777', async () => {
    await writeFile(
      join(dir, 'edmode.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: edmode}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
        `  restartPolicy: Never\n  containers:\n    - name: main\n      image: ${image}\n` +
        `      command: [sh, -c, "stat -c '%a' /tmp /plain"]\n` +
        `      volumeMounts: [{name: tmp, mountPath: /tmp}, {name: plain, mountPath: /plain}]\n` +
        `  volumes:\n    - {name: tmp, emptyDir: {mode: 01777}}\n    - {name: plain, emptyDir: {}}\n`,
    );
    expect((await berth('apply', dir)).code).toBe(0);
    const deadline = Date.now() + 20_000;
    let pod: PodView | undefined;
    while (Date.now() < deadline) {
      pod = (await ps()).find((p) => p.name === 'edmode');
      if (pod?.phase === 'Succeeded' || pod?.phase === 'Failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(pod?.phase).toBe('Succeeded');
    expect((await berth('logs', 'edmode')).stdout).toBe('1777\n777\n');
    await rm(join(dir, 'edmode.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  });

  it('two mountPaths written differently for one path (/data, /data/) run, as a cluster takes them: the later is mounted over the earlier', async () => {
    for (const v of ['first', 'second']) {
      await mkdir(join(work, `hidden-${v}`));
      await writeFile(join(work, `hidden-${v}`, 'which'), `${v}\n`);
    }
    await writeFile(
      join(dir, 'twice.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: twice}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
        `  restartPolicy: Never\n  containers:\n    - name: main\n      image: ${image}\n` +
        `      command: [cat, /data/which]\n` +
        `      volumeMounts: [{name: a, mountPath: /data}, {name: b, mountPath: /data/}]\n` +
        `  volumes:\n    - {name: a, hostPath: {path: ${join(work, 'hidden-first')}}}\n` +
        `    - {name: b, hostPath: {path: ${join(work, 'hidden-second')}}}\n`,
    );
    const apply = await berth('apply', dir);
    expect(apply.stderr).toContain('WARN_MOUNT_HIDDEN: container main mounts volume b at /data/');
    expect(apply.code).toBe(0);
    const deadline = Date.now() + 20_000;
    let pod: PodView | undefined;
    while (Date.now() < deadline) {
      pod = (await ps()).find((p) => p.name === 'twice');
      if (pod?.phase === 'Succeeded' || pod?.phase === 'Failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(pod?.phase).toBe('Succeeded');
    expect((await berth('logs', 'twice')).stdout).toBe('second\n');
    await rm(join(dir, 'twice.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  });

  it('hostnameOverride is the hostname inside the pod, over hostname: uname, /etc/hostname and HOSTNAME', async () => {
    await writeFile(
      join(dir, 'hno.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: hno}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
        `  restartPolicy: Never\n  hostname: short\n  hostnameOverride: db-0.db.example\n` +
        `  containers:\n    - name: main\n      image: ${image}\n` +
        `      command: [sh, -c, "hostname; cat /etc/hostname; echo $HOSTNAME"]\n`,
    );
    expect((await berth('apply', dir)).code).toBe(0);
    const deadline = Date.now() + 20_000;
    let pod: PodView | undefined;
    while (Date.now() < deadline) {
      pod = (await ps()).find((p) => p.name === 'hno');
      if (pod?.phase === 'Succeeded' || pod?.phase === 'Failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(pod?.phase).toBe('Succeeded');
    expect((await berth('logs', 'hno')).stdout).toBe('db-0.db.example\n'.repeat(3));
    await rm(join(dir, 'hno.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  });

  it('a native sidecar starts in order before the app, keeps running beside it, and stops after it', async () => {
    const out = join(work, 'order');
    const loop = (what: string) =>
      `"echo ${what}-start >> /out/order; trap 'echo ${what}-stop >> /out/order; exit 0' TERM; while true; do sleep 0.1; done"`;
    const mount = '      volumeMounts: [{name: out, mountPath: /out}]\n';
    await writeFile(
      join(dir, 'side.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: side}\nspec:\n  terminationGracePeriodSeconds: 10\n  initContainers:\n` +
        `    - name: prep\n      image: ${image}\n      command: [sh, -c, "echo prep >> /out/order"]\n${mount}` +
        `    - name: side\n      image: ${image}\n      restartPolicy: Always\n      command: [sh, -c, ${loop('side')}]\n${mount}` +
        `  containers:\n    - name: app\n      image: ${image}\n      command: [sh, -c, ${loop('app')}]\n${mount}` +
        `  volumes:\n    - name: out\n      hostPath: {path: ${out}, type: DirectoryOrCreate}\n`,
    );
    const apply = await berth('apply', dir);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    const pod = (await ps()).find((p) => p.name === 'side');
    expect(pod?.containers.map((c) => [c.name, c.init, c.state])).toEqual([
      ['prep', true, 'exited'],
      ['side', true, 'running'],
      ['app', false, 'running'],
    ]);
    expect(pod?.phase).toBe('Running');
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !(await readFile(join(out, 'order'), 'utf8')).includes('app-start'))
      await new Promise((r) => setTimeout(r, 50));
    expect(await readFile(join(out, 'order'), 'utf8')).toBe('prep\nside-start\napp-start\n');
    // Nothing more to do: the sidecar counts as started, the init container as done.
    expect((await berth('plan', dir)).code).toBe(0);
    await rm(join(dir, 'side.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
    expect(await readFile(join(out, 'order'), 'utf8')).toBe(
      'prep\nside-start\napp-start\napp-stop\nside-stop\n',
    );
  });

  it('terminationMessagePath: what a non-root container wrote there is its termination message, bounded and printable', async () => {
    await writeFile(
      join(dir, 'msg.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: msg}\nspec:\n  terminationGracePeriodSeconds: 1\n  restartPolicy: Never\n` +
        `  securityContext: {runAsUser: 1000}\n  containers:\n    - name: main\n      image: ${image}\n` +
        `      terminationMessagePath: /dev/termination-log\n` +
        `      command: [sh, -c, "printf 'bye\\\\033[2J' > /dev/termination-log; head -c 5000 /dev/zero | tr '\\\\0' x >> /dev/termination-log; exit 3"]\n`,
    );
    expect((await berth('apply', dir)).code).toBe(0);
    const deadline = Date.now() + 20_000;
    let pod: PodView | undefined;
    while (Date.now() < deadline) {
      pod = (await ps()).find((p) => p.name === 'msg');
      if (pod?.phase === 'Failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(pod?.containers.map((c) => [c.name, c.exitCode])).toEqual([['main', 3]]);
    expect(pod?.containers[0]?.terminationMessage).toBe(`bye?[2J${'x'.repeat(4096 - 7)}`);
    const table = await berth('ps');
    expect(table.stdout.split('\n').filter((l) => l.startsWith('msg/main: '))).toEqual([
      `msg/main: termination message: bye?[2J${'x'.repeat(4096 - 7)}`,
    ]);
    await rm(join(dir, 'msg.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  });

  it('a pod outside default is NAMESPACE.NAME; its namespaced sysctl is set; hostPID and hostIPC share the host namespaces', async () => {
    await writeFile(
      join(dir, 'shop.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  terminationGracePeriodSeconds: 1\n  restartPolicy: Never\n` +
        `  hostPID: true\n  hostIPC: true\n` +
        `  securityContext: {sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "81"}]}\n` +
        `  containers:\n    - name: main\n      image: ${image}\n` +
        `      command: [sh, -c, "cat /proc/sys/net/ipv4/ip_unprivileged_port_start; for n in pid ipc net; do readlink /proc/self/ns/$$n; done; hostname"]\n`,
    );
    // (`$$n` is `$n` once the kubelet's $(VAR) rules have run.)
    const apply = await berth('apply', dir);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    const deadline = Date.now() + 20_000;
    let pod: PodView | undefined;
    while (Date.now() < deadline) {
      pod = (await ps()).find((p) => p.name === 'shop.web');
      if (pod?.phase === 'Succeeded' || pod?.phase === 'Failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect([pod?.phase, pod?.namespace]).toEqual(['Succeeded', 'shop']);
    const ns = (kind: string) => readlinkSync(`/proc/self/ns/${kind}`);
    const lines = (await berth('logs', 'shop.web')).stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual(['81', ns('pid'), ns('ipc')]);
    expect(lines[3]).not.toBe(ns('net')); // its own network namespace
    expect(lines.slice(4)).toEqual(['web', '']);
    const names = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
      name: string;
    }>;
    expect(names.map((c) => c.name).filter((n) => n.startsWith('shop'))).toEqual(['shop.web_main']);
    expect(existsSync(join(root, 'pods', 'shop.web', 'pod.json'))).toBe(true);
    // The host's own value is untouched.
    expect(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')).toBe(hostPortStart);
    await rm(join(dir, 'shop.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
    expect(existsSync(join(root, 'pods', 'shop.web'))).toBe(false);
  });

  it('a Localhost seccomp profile from <root>/seccomp/ is the container filter', async () => {
    await mkdir(join(root, 'seccomp', 'profiles'), { recursive: true });
    await writeFile(
      join(root, 'seccomp', 'profiles', 'deny-mkdir.json'),
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
      }),
    );
    await writeFile(
      join(dir, 'sec.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: sec}\nspec:\n  terminationGracePeriodSeconds: 1\n  restartPolicy: Never\n` +
        `  securityContext:\n    seccompProfile: {type: Localhost, localhostProfile: profiles/deny-mkdir.json}\n` +
        `  containers:\n    - name: main\n      image: ${image}\n` +
        `      command: [sh, -c, "mkdir /tmp/x 2>/dev/null && echo made || echo denied; touch /tmp/y && echo touched"]\n`,
    );
    expect((await berth('apply', dir)).code).toBe(0);
    const deadline = Date.now() + 20_000;
    let pod: PodView | undefined;
    while (Date.now() < deadline) {
      pod = (await ps()).find((p) => p.name === 'sec');
      if (pod?.phase === 'Succeeded' || pod?.phase === 'Failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(pod?.phase).toBe('Succeeded');
    expect((await berth('logs', 'sec')).stdout).toBe('denied\ntouched\n');
    await rm(join(dir, 'sec.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  });
});
