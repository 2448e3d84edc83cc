// After a reboot (every conmon and container of the root killed, every mount gone, --state wiped,
// --root kept), one `berth apply` brings every pod back as its manifest says, as root with real
// runc, conmon and overlayfs: sandboxes (netns, memory emptyDirs) set up again, init containers run
// again, named volume data intact, finished Never/OnFailure jobs left finished, and no container
// reported in a state the JSON does not promise.
import { execFileSync } from 'node:child_process';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { simulateReboot } from '../helpers/reboot.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

interface ContainerJson {
  name: string;
  state: string;
  exitCode: number | null;
  reason?: string | null;
}

describe.skipIf(skip)('reboot', () => {
  let e2e: E2eHost | undefined;
  let dir: string;
  let root: string;
  let state: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const containers = async () =>
    (JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as ContainerJson[])
      .map((c) => ({ name: c.name, state: c.state, exitCode: c.exitCode, reason: c.reason }))
      .sort((a, b) => a.name.localeCompare(b.name));
  const until = async (what: string, probe: () => Promise<boolean>) => {
    for (let i = 0; i < 200; i++) {
      if (await probe()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`never: ${what}`);
  };
  const phases = async () => (await ps()).map((p) => [p.name, p.phase]);

  const manifests = (image: string): Record<string, string> => ({
    // An init container that fills a memory emptyDir and appends to a named volume; the main
    // container fails without what the init container made.
    'web.yaml': `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
    - name: prepare
      image: ${image}
      command: ["/bin/sh", "-c", "echo ready > /mem/ready && echo init >> /data/lines"]
      volumeMounts: [{name: mem, mountPath: /mem}, {name: data, mountPath: /data}]
  containers:
    - name: main
      image: ${image}
      command: ["/bin/sh", "-c", "test -f /mem/ready || exit 7; trap 'exit 0' TERM; while true; do sleep 1; done"]
      volumeMounts: [{name: mem, mountPath: /mem}, {name: scratch, mountPath: /scratch}]
  volumes:
    - {name: mem, emptyDir: {medium: Memory}}
    - {name: scratch, emptyDir: {}}
    - {name: data, persistentVolumeClaim: {claimName: reboot-data}}
`,
    // A user other than root writes both kinds of emptyDir.
    'nonroot.yaml': `apiVersion: v1
kind: Pod
metadata: {name: nonroot}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${image}
      securityContext: {runAsUser: 1000, runAsGroup: 1000}
      command: ["/bin/sh", "-c", "touch /disk/x /mem/x || exit 3; trap 'exit 0' TERM; while true; do sleep 1; done"]
      volumeMounts: [{name: disk, mountPath: /disk}, {name: mem, mountPath: /mem}]
  volumes:
    - {name: disk, emptyDir: {}}
    - {name: mem, emptyDir: {medium: Memory}}
`,
    // Runs on the host's network: no sandbox; its container is simply lost with the host.
    'host.yaml': `apiVersion: v1
kind: Pod
metadata: {name: host}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${image}
      command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
`,
    'once.yaml': job('once', 'Never', image),
    'retry.yaml': job('retry', 'OnFailure', image),
  });
  function job(name: string, policy: string, image: string) {
    return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  restartPolicy: ${policy}
  containers:
    - name: main
      image: ${image}
      command: ["/bin/sh", "-c", "echo ran >> /jobs/${name}"]
      volumeMounts: [{name: jobs, mountPath: /jobs}]
  volumes:
    - {name: jobs, persistentVolumeClaim: {claimName: reboot-jobs}}
`;
  }

  beforeAll(async () => {
    e2e = await setUpE2eHost('reboot');
    ({ root, state, dir } = e2e);
    const { image } = e2e;
    for (const [file, text] of Object.entries(manifests(image))) await writeFile(join(dir, file), text);
  }, 180_000);
  afterAll(async () => {
    const { left, leaked } = await tearDownE2eHost(e2e, { berth });
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it('emptyDirs: memory ones are nosuid,nodev tmpfs with a size; every emptyDir is writable by any user (0777)', async () => {
    expect((await berth('apply', dir)).code).toBe(0);
    await until('the jobs finish', async () =>
      (await phases()).every(
        ([n, phase]) => !['once', 'retry'].includes(n as string) || phase === 'Succeeded',
      ),
    );
    expect(await phases()).toEqual([
      ['host', 'Running'],
      ['nonroot', 'Running'],
      ['once', 'Succeeded'],
      ['retry', 'Succeeded'],
      ['web', 'Running'],
    ]);
    const mem = join(root, 'pods', 'web', 'volumes', 'mem');
    const [fstype, options] = execFileSync('findmnt', ['-rn', '-o', 'FSTYPE,OPTIONS', mem])
      .toString()
      .trim()
      .split(' ');
    expect(fstype).toBe('tmpfs');
    expect(options?.split(',').filter((o) => ['nosuid', 'nodev'].includes(o))).toEqual(['nosuid', 'nodev']);
    expect(options).toMatch(/(^|,)size=\d+k(,|$)/);
    expect(((await stat(mem)).mode & 0o7777).toString(8)).toBe('777');
    expect(((await stat(join(root, 'pods', 'web', 'volumes', 'scratch'))).mode & 0o7777).toString(8)).toBe(
      '777',
    );
    expect(((await stat(join(root, 'pods', 'web'))).mode & 0o777).toString(8)).toBe('700');
    expect(JSON.parse(await readFile(join(root, 'pods', 'web', 'pod.json'), 'utf8'))).toEqual({
      source: join(dir, 'web.yaml'),
    });
  }, 60_000);

  it('after a reboot, one apply brings every pod back as its manifest says', async () => {
    const volumes = join(root, 'volumes');
    expect(await readFile(join(volumes, 'reboot-data', 'lines'), 'utf8')).toBe('init\n');
    await simulateReboot(root, state);
    // The exits that were recorded survive in --root; what ran when the host went down is lost.
    expect(await containers()).toEqual([
      { name: 'host_main', state: 'exited', exitCode: null, reason: 'lost' },
      { name: 'nonroot_main', state: 'exited', exitCode: null, reason: 'lost' },
      { name: 'once_main', state: 'exited', exitCode: 0, reason: null },
      { name: 'retry_main', state: 'exited', exitCode: 0, reason: null },
      { name: 'web_main', state: 'exited', exitCode: null, reason: 'lost' },
      { name: 'web_prepare', state: 'exited', exitCode: 0, reason: null },
    ]);
    const again = 'sandbox gone (host rebooted?): set up again, init containers run again';
    const plan = await berth('plan', dir);
    expect([plan.code, plan.stdout]).toEqual([
      2,
      'run          host/main: lost with no exit code (the host went down, or its monitor was killed), restart policy Always, restart 1 now\n' +
        `remove       nonroot: ${again}\n` +
        `setup-pod    nonroot: ${again}\n` +
        'run          nonroot/main: new container\n' +
        `remove       web: ${again}\n` +
        `remove       web: ${again}\n` +
        `setup-pod    web: ${again}\n` +
        'run          web/prepare: init container\n',
    ]);
    const apply = await berth('apply', dir);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    expect(await phases()).toEqual([
      ['host', 'Running'],
      ['nonroot', 'Running'],
      ['once', 'Succeeded'],
      ['retry', 'Succeeded'],
      ['web', 'Running'],
    ]);
    // The init container ran again (its line twice in the named volume); the jobs did not.
    expect(await readFile(join(volumes, 'reboot-data', 'lines'), 'utf8')).toBe('init\ninit\n');
    expect(await readFile(join(volumes, 'reboot-jobs', 'once'), 'utf8')).toBe('ran\n');
    expect(await readFile(join(volumes, 'reboot-jobs', 'retry'), 'utf8')).toBe('ran\n');
    const states = (await containers()).map((c) => [c.name, c.state]);
    expect(states).toEqual([
      ['host_main', 'running'],
      ['nonroot_main', 'running'],
      ['once_main', 'exited'],
      ['retry_main', 'exited'],
      ['web_main', 'running'],
      ['web_prepare', 'exited'],
    ]);
    const again2 = await berth('plan', dir);
    expect([again2.code, again2.stdout]).toEqual([0, 'nothing to do: the host matches the manifests\n']);
  }, 90_000);

  it('after another reboot, a daemon started at boot does the same; a file deleted meanwhile removes its pod', async () => {
    await simulateReboot(root, state);
    await rm(join(dir, 'once.yaml'));
    const daemon = spawnBerth([
      '--root',
      root,
      '--state',
      state,
      'daemon',
      '--manifests',
      dir,
      '--resync',
      '600',
    ]);
    const exited = new Promise((r) => daemon.once('exit', r));
    try {
      const want = JSON.stringify([
        ['host', 'Running'],
        ['nonroot', 'Running'],
        ['retry', 'Succeeded'],
        ['web', 'Running'],
      ]);
      await until('every pod is back', async () => JSON.stringify(await phases()) === want);
      const volumes = join(root, 'volumes');
      expect(await readFile(join(volumes, 'reboot-data', 'lines'), 'utf8')).toBe('init\ninit\ninit\n');
      expect(await readFile(join(volumes, 'reboot-jobs', 'retry'), 'utf8')).toBe('ran\n');
      expect((await containers()).map((c) => [c.name, c.state])).toEqual([
        ['host_main', 'running'],
        ['nonroot_main', 'running'],
        ['retry_main', 'exited'],
        ['web_main', 'running'],
        ['web_prepare', 'exited'],
      ]);
      expect((await readdir(join(root, 'pods'))).sort()).toEqual(['nonroot', 'retry', 'web']);
    } finally {
      daemon.kill('SIGTERM');
      await exited;
    }
  }, 90_000);
});
