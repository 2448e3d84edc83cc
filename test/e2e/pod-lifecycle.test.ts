// Pod lifecycle as the kubelet runs it, end to end as root with real runc, conmon and overlayfs: an
// init container that fails under restartPolicy Never makes the pod Failed and stops the sidecars
// already running (the kubelet kills the pod); a pod that leaves the manifests stops within one
// terminationGracePeriodSeconds, its app containers together, then its sidecars, last started first;
// an init container changed while a later one runs is made again first, the later one after it;
// hooks whose command does not exist fail as any failing hook (postStart stops the container, a
// preStop's failure does not hold the stop).

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { endChild, spawnBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('pod lifecycle, as the kubelet runs it', () => {
  let host: E2eHost | undefined;
  let work: string;
  let dir: string;
  let image: string;
  const berth = (...args: string[]) => (host as E2eHost).berth(...args);
  const podNamed = async (name: string) =>
    (JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[]).find((p) => p.name === name);
  const states = (p: PodView | undefined) => p?.containers.map((c) => [c.name, c.state, c.exitCode]);

  beforeAll(async () => {
    host = await setUpE2eHost('lifecycle');
    ({ work, dir, image } = host);
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await tearDownE2eHost(host);
    expect(leaked).toEqual([]);
  });

  it('an init container that fails under restartPolicy Never: the pod is Failed, the sidecar before it stopped, the app never made', async () => {
    const out = join(work, 'initfail-out');
    await mkdir(out);
    const mount = '      volumeMounts: [{name: out, mountPath: /out}]\n';
    await writeFile(
      join(dir, 'initfail.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: initfail}\nspec:\n  terminationGracePeriodSeconds: 5\n  restartPolicy: Never\n` +
        `  initContainers:\n    - name: side\n      image: ${image}\n      restartPolicy: Always\n` +
        `      command: [sh, -c, "trap 'echo stopped >> /out/side; exit 0' TERM; while true; do sleep 0.1; done"]\n${mount}` +
        `    - name: setup\n      image: ${image}\n      command: [sh, -c, "exit 3"]\n` +
        `  containers:\n    - name: app\n      image: ${image}\n      command: [sleep, "3600"]\n` +
        `  volumes:\n    - name: out\n      hostPath: {path: ${out}}\n`,
    );
    // The failed init container fails the apply; the sidecar stops at once, no back-off holds it.
    const failed = await berth('apply', dir);
    expect([failed.code, failed.stderr]).toEqual([
      1,
      'failed run          initfail/setup: init container: ERR_INIT_FAILED: init container initfail_setup exited 3\n',
    ]);
    const pod = await podNamed('initfail');
    expect([pod?.phase, states(pod)]).toEqual([
      'Failed',
      [
        ['side', 'waiting', null],
        ['setup', 'exited', 3],
        ['app', 'waiting', null],
      ],
    ]);
    expect(await readFile(join(out, 'side'), 'utf8')).toBe('stopped\n');
    const plan = await berth('plan', dir);
    expect([
      plan.code,
      plan.stdout.split('\n').filter((l) => l.includes('initfail') && !l.startsWith('wait')),
    ]).toEqual([0, []]);
    await rm(join(dir, 'initfail.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  }, 180_000);

  it('a pod gone from the manifests stops within one grace period: its app containers together, then its sidecars, the last started first', async () => {
    const out = join(work, 'gone-out');
    await mkdir(out);
    const mount = '      volumeMounts: [{name: out, mountPath: /out}]\n';
    // Each notes its TERM in a shared log, with the host's uptime (/proc/uptime: one clock for all),
    // and ignores it: SIGKILL ends it.
    const stubborn = (name: string) =>
      `      command: [sh, -c, "trap 'echo ${name} $$(cut -d\\" \\" -f1 /proc/uptime) >> /out/order' TERM; while true; do sleep 0.1; done"]\n${mount}`;
    await writeFile(
      join(dir, 'gone.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: gone}\nspec:\n  terminationGracePeriodSeconds: 4\n` +
        `  initContainers:\n` +
        `    - name: side1\n      image: ${image}\n      restartPolicy: Always\n${stubborn('side1')}` +
        `    - name: side2\n      image: ${image}\n      restartPolicy: Always\n${stubborn('side2')}` +
        `  containers:\n` +
        `    - name: app1\n      image: ${image}\n${stubborn('app1')}` +
        `    - name: app2\n      image: ${image}\n${stubborn('app2')}` +
        `  volumes:\n    - name: out\n      hostPath: {path: ${out}}\n`,
    );
    expect((await berth('apply', dir)).code).toBe(0);
    expect(states(await podNamed('gone'))?.map((s) => s[1])).toEqual([
      'running',
      'running',
      'running',
      'running',
    ]);
    await rm(join(dir, 'gone.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
    const log = (await readFile(join(out, 'order'), 'utf8')).trim().split('\n');
    const at = new Map(log.map((l) => [l.split(' ')[0] as string, Number(l.split(' ')[1])]));
    expect([
      log
        .slice(0, 2)
        .map((l) => l.split(' ')[0])
        .sort(),
      log.slice(2).map((l) => l.split(' ')[0]),
    ]).toEqual([
      ['app1', 'app2'],
      ['side2', 'side1'],
    ]);
    const after = (a: string, b: string) => Math.round(((at.get(b) ?? 0) - (at.get(a) ?? 0)) * 10) / 10;
    // The app containers get TERM together; SIGKILL ends them at 4 s; then side2 gets TERM with the
    // 2 s floor (the budget is spent), then side1 once side2 is gone: 8 s in all, as under the
    // kubelet, where one container after another with its own 4 s took 16 s.
    expect(after('app1', 'app2')).toBeLessThan(2); // one after the other: 4 s and more
    expect(after('app1', 'side2')).toBeGreaterThanOrEqual(3.5);
    expect(after('app1', 'side2')).toBeLessThan(7);
    expect(after('side2', 'side1')).toBeGreaterThanOrEqual(1.5);
    expect(after('side2', 'side1')).toBeLessThan(5);
  }, 180_000);

  it('an init container changed while the next one runs: that one stops, and runs again after the new one', async () => {
    const out = join(work, 'reinit-out');
    await mkdir(out);
    const file = join(dir, 'reinit.yaml');
    const manifest = (version: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: reinit}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
      `  initContainers:\n    - name: first\n      image: ${image}\n      command: [sh, -c, "echo first-${version} >> /out/runs"]\n` +
      '      volumeMounts: [{name: out, mountPath: /out}]\n' +
      `    - name: second\n      image: ${image}\n` +
      `      command: [sh, -c, "echo second-after-$$(tail -n 1 /out/runs) >> /out/runs; sleep 4"]\n` +
      '      volumeMounts: [{name: out, mountPath: /out}]\n' +
      `  containers:\n    - name: app\n      image: ${image}\n      command: [sleep, "3600"]\n` +
      `  volumes:\n    - name: out\n      hostPath: {path: ${out}}\n`;
    await writeFile(file, manifest('v1'));
    // An apply stopped (SIGTERM) while `second` runs leaves it running, as a daemon's pass would.
    const apply = spawnBerth([
      '--root',
      (host as E2eHost).root,
      '--state',
      (host as E2eHost).state,
      'apply',
      dir,
    ]);
    const runs = async () => (await readFile(join(out, 'runs'), 'utf8').catch(() => '')).trim().split('\n');
    const deadline = Date.now() + 60_000;
    while (!(await runs()).includes('second-after-first-v1') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await endChild(apply, 'SIGTERM');
    expect((await podNamed('reinit'))?.containers.map((c) => [c.name, c.state])).toEqual([
      ['first', 'exited'],
      ['second', 'running'],
      ['app', 'waiting'],
    ]);
    await writeFile(file, manifest('v2'));
    expect((await berth('apply', dir)).code).toBe(0);
    // The new `first` ran alone, then `second` again, on what it did; then the app.
    expect(await runs()).toEqual(['first-v1', 'second-after-first-v1', 'first-v2', 'second-after-first-v2']);
    expect(states(await podNamed('reinit'))).toEqual([
      ['first', 'exited', 0],
      ['second', 'exited', 0],
      ['app', 'running', null],
    ]);
  }, 180_000);

  it('a container changed with a shorter grace period: the old one is stopped with its own, as the kubelet kills the old static pod', async () => {
    const out = join(work, 'regrace-out');
    await mkdir(out);
    const file = join(dir, 'regrace.yaml');
    // On TERM the app takes 2 s to finish its work: its own 3600 s allow it, the new 1 s would not.
    const manifest = (grace: number, version: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: regrace}\nspec:\n  terminationGracePeriodSeconds: ${grace}\n` +
      `  containers:\n    - name: app\n      image: ${image}\n      env: [{name: VERSION, value: ${version}}]\n` +
      `      command: [sh, -c, "trap 'echo term-$$VERSION >> /out/log; sleep 2; echo done-$$VERSION >> /out/log; exit 0' TERM; while true; do sleep 0.1; done"]\n` +
      '      volumeMounts: [{name: out, mountPath: /out}]\n' +
      `  volumes:\n    - name: out\n      hostPath: {path: ${out}}\n`;
    await writeFile(file, manifest(3600, 'v1'));
    expect((await berth('apply', dir)).code).toBe(0);
    // (No shorter than before: a file that shrinks a moment after a write is held as still being written.)
    await writeFile(file, manifest(1, 'v2-new'));
    expect((await berth('apply', dir)).code).toBe(0);
    expect((await readFile(join(out, 'log'), 'utf8')).trim().split('\n')).toEqual(['term-v1', 'done-v1']);
    expect(states(await podNamed('regrace'))).toEqual([['app', 'running', null]]);
    // The new one has the new grace period: 1 s, then SIGKILL before it is done.
    await rm(file);
    expect((await berth('apply', dir)).code).toBe(0);
    expect((await readFile(join(out, 'log'), 'utf8')).trim().split('\n')).toEqual([
      'term-v1',
      'done-v1',
      'term-v2-new',
    ]);
  }, 180_000);

  it('hooks whose command does not exist: postStart fails the start (the container stopped), preStop fails and the stop goes on at once', async () => {
    const file = join(dir, 'nohook.yaml');
    const hook = (kind: string) => `      lifecycle: {${kind}: {exec: {command: [/no/such/command]}}}\n`;
    const manifest = (name: string, kind: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 60\n` +
      `  containers:\n    - name: main\n      image: ${image}\n` +
      `      command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 0.1; done"]\n${hook(kind)}`;
    await writeFile(file, `${manifest('nopost', 'postStart')}---\n${manifest('nopre', 'preStop')}`);
    const applied = await berth('apply', dir);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toMatch(
      /^failed run +nopost\/main: new container: ERR_POSTSTART_HOOK: postStart hook failed: .+\n$/,
    );
    const post = await podNamed('nopost');
    expect(
      post?.containers.map((c) => [c.state, c.restarts, c.lastError?.startsWith('ERR_POSTSTART_HOOK')]),
    ).toEqual([['exited', 0, true]]);
    expect(states(await podNamed('nopre'))).toEqual([['main', 'running', null]]);
    await rm(file);
    const started = Date.now();
    expect((await berth('apply', dir)).code).toBe(0);
    // Not the grace period, which a stop that waited it out ends past (60 s: a loaded host's apply
    // alone, the CLI's start, the stop, unmounts and network, can take some seconds).
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(await podNamed('nopre')).toBeUndefined();
  }, 180_000);
});
