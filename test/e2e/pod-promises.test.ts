// README promises about Pod YAML, end to end as root with real runc, conmon and overlayfs, each
// asserted inside the container or in `ps`: a ConfigMap is looked up in the pod's namespace; the
// downward API's uid, serviceAccountName (a lone serviceAccount's too) and host addresses, an empty podIP with only loopback
// (`berth.dev/network: none`); downwardAPI and projected volumes are tmpfs nosuid,nodev; seccomp
// RuntimeDefault filters and Unconfined does not; capabilities `ALL` and a `CAP_` prefix; a native
// sidecar restarted whatever the pod's policy, and stopped once the app has finished for good; a pod
// whose ConfigMap goes missing waits and what runs is kept.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podUid } from '../../src/reconcile/downward.js';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from '../../src/runtime/defaults.js';
import { CLI, runBerth, runCollected, testEnv, withTestConfig } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

/** The host's bounding set, as the test process sees it (the container cannot have more). */
const hostBound = BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]}`);
const capMask = (caps: string[]) =>
  caps.reduce((m, c) => m | (1n << BigInt(ALL_CAPABILITIES.indexOf(c))), 0n) & hostBound;
const hex = (m: bigint) => m.toString(16).padStart(16, '0');

describe.skipIf(skip)('Pod YAML promises, in effect', () => {
  let host: E2eHost | undefined;
  let work: string;
  let dir: string;
  let root: string;
  let state: string;
  let image: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const podNamed = async (name: string) => (await ps()).find((p) => p.name === name);
  /** Polls ps until `done` holds for the pod (bounded), and returns the pod as last seen. */
  const waitFor = async (name: string, done: (p: PodView | undefined) => boolean, ms = 20_000) => {
    const deadline = Date.now() + ms;
    let pod = await podNamed(name);
    while (!done(pod) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      pod = await podNamed(name);
    }
    return pod;
  };
  const finished = (p: PodView | undefined) => p?.phase === 'Succeeded' || p?.phase === 'Failed';

  beforeAll(async () => {
    host = await setUpE2eHost('podpromises');
    ({ work, root, state, dir, image } = host);
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await tearDownE2eHost(host);
    expect(leaked).toEqual([]);
  });

  it("a ConfigMap is found in the pod's namespace; uid, serviceAccountName, hostIP(s), an empty podIP on loopback; downwardAPI and projected volumes are tmpfs nosuid,nodev", async () => {
    const conf = (ns: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf, namespace: ${ns}}\ndata: {WHO: "from-${ns}"}\n---\n`;
    const pod = (ns: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: facts\n  namespace: ${ns}\n  annotations: {berth.dev/network: none}\n` +
      `spec:\n  terminationGracePeriodSeconds: 1\n  restartPolicy: Never\n  serviceAccountName: robot\n  containers:\n` +
      `    - name: main\n      image: ${image}\n      env:\n` +
      `        - {name: WHO, valueFrom: {configMapKeyRef: {name: conf, key: WHO}}}\n` +
      ['metadata.uid', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP']
        .map((f, i) => `        - {name: F${i}, valueFrom: {fieldRef: {fieldPath: ${f}}}}\n`)
        .join('') +
      `      command: [sh, -c, "echo $$WHO; echo $$F0; echo $$F1; echo $$F2; echo $$F3; echo \\"[$$F4]\\"; ` +
      `sed -n '3,$$ s/:.*//p' /proc/net/dev | tr -d ' '; ` +
      `for m in /info /proj; do awk -v m=$$m '$$2 == m { print $$2, $$3, $$4 }' /proc/mounts; done"]\n` +
      `      volumeMounts: [{name: info, mountPath: /info}, {name: proj, mountPath: /proj}]\n` +
      `  volumes:\n` +
      `    - {name: info, downwardAPI: {items: [{path: name, fieldRef: {fieldPath: metadata.name}}]}}\n` +
      `    - name: proj\n      projected:\n        sources:\n          - configMap: {name: conf}\n` +
      `          - downwardAPI: {items: [{path: ns, fieldRef: {fieldPath: metadata.namespace}}]}\n`;
    // Two ConfigMaps named alike: each pod must read the one of its own namespace.
    await writeFile(
      join(dir, 'facts.yaml'),
      conf('default') + conf('shop') + pod('shop') + '---\n' + pod('default'),
    );
    const hostIp =
      Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? '';
    const apply = await berth('apply', dir);
    expect(apply.code).toBe(0);
    for (const [name, ns] of [
      ['shop.facts', 'shop'],
      ['facts', 'default'],
    ] as const) {
      const p = await waitFor(name, finished);
      expect([name, p?.phase, p?.ip]).toEqual([name, 'Succeeded', null]);
      const lines = (await berth('logs', name)).stdout.split('\n');
      const mountOpts = (l: string) => l.split(',')[0];
      expect([...lines.slice(0, 7), ...lines.slice(7, 9).map(mountOpts), ...lines.slice(9)]).toEqual([
        `from-${ns}`,
        podUid(ns, 'facts'),
        'robot',
        hostIp,
        hostIp,
        '[]',
        'lo', // only loopback in its network namespace
        '/info tmpfs ro', // in memory, read-only inside
        '/proj tmpfs ro',
        '',
      ]);
      // On the host: tmpfs, nosuid and nodev (nothing a container could plant there runs setuid or as a device).
      for (const v of ['info', 'proj']) {
        const [fs, opts] = execFileSync('findmnt', [
          '-rn',
          '-o',
          'FSTYPE,OPTIONS',
          join(root, 'pods', name, 'volumes', v),
        ])
          .toString()
          .trim()
          .split(' ');
        expect([v, fs, opts?.split(',').includes('nosuid'), opts?.split(',').includes('nodev')]).toEqual([
          v,
          'tmpfs',
          true,
          true,
        ]);
      }
    }
    // Stable for a namespace and name, in the UUID form; not the same in two namespaces.
    expect(podUid('shop', 'facts')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(podUid('shop', 'facts')).not.toBe(podUid('default', 'facts'));
    await rm(join(dir, 'facts.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  }, 180_000);

  it("a spec.serviceAccount given alone is the pod's serviceAccountName to the downward API, as a cluster converts the deprecated alias", async () => {
    await writeFile(
      join(dir, 'legacy-sa.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: legacy-sa\n  annotations: {berth.dev/network: none}\n` +
        `spec:\n  terminationGracePeriodSeconds: 1\n  restartPolicy: Never\n  serviceAccount: legacy-robot\n` +
        `  containers:\n    - name: main\n      image: ${image}\n` +
        `      env: [{name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}]\n` +
        `      command: [sh, -c, 'echo "[$$SA]"']\n`,
    );
    expect((await berth('apply', dir)).code).toBe(0);
    const pod = await waitFor('legacy-sa', finished);
    expect([pod?.phase, (await berth('logs', 'legacy-sa')).stdout]).toEqual([
      'Succeeded',
      '[legacy-robot]\n',
    ]);
    await rm(join(dir, 'legacy-sa.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  }, 120_000);

  it('seccomp RuntimeDefault filters and Unconfined does not; capabilities ALL dropped or added, a CAP_ prefix warned and used', async () => {
    const container = (name: string, sc: string) =>
      [
        `    - name: ${name}`,
        `      image: ${image}`,
        `      securityContext: ${sc}`,
        `      command: [sh, -c, "grep -E '^(Seccomp|CapEff):' /proc/self/status | tr -d ' \\\\t'"]`,
      ].join('\n');
    const lines = [
      'apiVersion: v1',
      'kind: Pod',
      'metadata: {name: guard}',
      'spec:',
      '  terminationGracePeriodSeconds: 1',
      '  restartPolicy: Never',
      '  containers:',
      container('def', '{seccompProfile: {type: RuntimeDefault}}'),
      container('unc', '{seccompProfile: {type: Unconfined}}'),
      container('none', '{capabilities: {drop: [ALL]}}'),
      container('all', '{capabilities: {add: [ALL]}}'),
      container('pref', '{capabilities: {add: [CAP_NET_ADMIN]}}'),
      '',
    ];
    const file = join(dir, 'guard.yaml');
    await writeFile(file, lines.join('\n'));
    const validate = await berth('validate', dir);
    expect([validate.code, validate.stderr.split('\n').filter((l) => l.includes('WARN_'))]).toEqual([
      0,
      [
        `${file}:26:46: WARN_MANIFEST_K8S_REJECTS: capability CAP_NET_ADMIN: a cluster rejects the CAP_ prefix (write NET_ADMIN); used as NET_ADMIN`,
      ],
    ]);
    expect((await berth('apply', dir)).code).toBe(0);
    const pod = await waitFor('guard', finished);
    expect(pod?.phase).toBe('Succeeded');
    const out: Record<string, string> = {};
    for (const c of ['def', 'unc', 'none', 'all', 'pref'])
      out[c] = (await berth('logs', `guard/${c}`)).stdout;
    const docker = hex(capMask(DEFAULT_CAPABILITIES));
    expect(out).toEqual({
      def: `CapEff:${docker}\nSeccomp:2\n`, // the host default filter is loaded
      unc: `CapEff:${docker}\nSeccomp:0\n`, // none at all
      none: 'CapEff:0000000000000000\nSeccomp:2\n',
      all: `CapEff:${hex(hostBound)}\nSeccomp:2\n`, // every capability the host has
      pref: `CapEff:${hex(capMask([...DEFAULT_CAPABILITIES, 'CAP_NET_ADMIN']))}\nSeccomp:2\n`,
    });
    await rm(file);
    expect((await berth('apply', dir)).code).toBe(0);
  }, 180_000);

  it('a native sidecar is restarted though the pod says Never, and stopped once the app has finished for good', async () => {
    const out = join(work, 'side-out');
    await mkdir(out);
    const mount = '      volumeMounts: [{name: out, mountPath: /out}]\n';
    await writeFile(
      join(dir, 'side.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: side}\nspec:\n  terminationGracePeriodSeconds: 5\n  restartPolicy: Never\n` +
        `  initContainers:\n    - name: helper\n      image: ${image}\n      restartPolicy: Always\n` +
        // The first run ends with exit 1 when the test says so; the second runs until stopped.
        `      command: [sh, -c, "echo run >> /out/runs; if [ ! -f /out/second ]; then touch /out/second; ` +
        `while [ ! -f /out/die ]; do sleep 0.05; done; exit 1; fi; trap 'echo stopped >> /out/runs; exit 0' TERM; while true; do sleep 0.1; done"]\n${mount}` +
        `  containers:\n    - name: app\n      image: ${image}\n` +
        `      command: [sh, -c, "while [ ! -f /out/end ]; do sleep 0.05; done"]\n${mount}` +
        `  volumes:\n    - name: out\n      hostPath: {path: ${out}}\n`,
    );
    const states = (p: PodView | undefined) =>
      p?.containers.map((c) => [c.name, c.state, c.exitCode, c.restarts]);
    expect((await berth('apply', dir)).code).toBe(0);
    expect(states(await podNamed('side'))).toEqual([
      ['helper', 'running', null, 0],
      ['app', 'running', null, 0],
    ]);
    await writeFile(join(out, 'die'), '');
    const died = await waitFor('side', (p) => p?.containers[0]?.state === 'exited');
    expect(states(died)?.[0]).toEqual(['helper', 'exited', 1, 0]);
    // The pod's policy is Never; the sidecar is restarted all the same (after its back-off).
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await podNamed('side'))?.containers[0]?.state !== 'running')
      expect((await berth('apply', dir)).code).toBe(0);
    expect(states(await podNamed('side'))).toEqual([
      ['helper', 'running', null, 1],
      ['app', 'running', null, 0],
    ]);
    expect(await readFile(join(out, 'runs'), 'utf8')).toBe('run\nrun\n');
    // The app finishes for good (exit 0, policy Never): the next pass stops the sidecar, and no pass starts it again.
    await writeFile(join(out, 'end'), '');
    await waitFor('side', (p) => p?.containers[1]?.state === 'exited');
    expect((await berth('apply', dir)).code).toBe(0);
    const done = await podNamed('side');
    expect([done?.phase, states(done)?.[1]]).toEqual(['Succeeded', ['app', 'exited', 0, 0]]);
    // It got its stop signal and its container is gone (ps lists it as waiting: nothing of it is left).
    expect(await readFile(join(out, 'runs'), 'utf8')).toBe('run\nrun\nstopped\n');
    const names = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
      name: string;
    }>;
    expect(names.map((c) => c.name).filter((n) => n.startsWith('side_'))).toEqual(['side_app']);
    const plan = await berth('plan', dir);
    expect([plan.code, plan.stdout.split('\n').filter((l) => l.includes('side'))]).toEqual([0, []]);
    await rm(join(dir, 'side.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  }, 180_000);

  it('apply says on a terminal what it is waiting for: an init container that runs 7 s is told at 5 s; a pipe gets nothing of it', async () => {
    const slow = (name: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 0\n` +
      `  initContainers:\n    - name: init\n      image: ${image}\n      command: [sleep, "7"]\n` +
      `  containers:\n    - name: app\n      image: ${image}\n      command: [sleep, "3600"]\n`;
    await writeFile(join(dir, 'slowinit.yaml'), slow('slowinit'));
    // On a terminal: util-linux's script(1) gives the apply a pty (stdout and stderr both on it).
    const argv = [process.execPath, CLI, ...withTestConfig(['--root', root, '--state', state, 'apply', dir])];
    const tty = await runCollected(
      'script',
      ['-qec', argv.map((a) => `'${a}'`).join(' '), '/dev/null'],
      testEnv(),
    );
    expect(tty.code).toBe(0);
    // The first (a loaded host may take past 10 s and tell it again).
    expect(tty.stdout.split('\r\n').find((l) => l.startsWith('['))).toBe(
      '[5 s] pod/slowinit: running init container slowinit/init to completion',
    );
    expect((await podNamed('slowinit'))?.phase).toBe('Running');
    await writeFile(join(dir, 'slowinit2.yaml'), slow('slowinit2'));
    expect(await berth('apply', dir)).toMatchObject({ code: 0, stderr: '' });
    await rm(join(dir, 'slowinit.yaml'));
    await rm(join(dir, 'slowinit2.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  }, 60_000);

  it('a running pod whose ConfigMap goes missing waits, and what runs is kept even though its spec changed', async () => {
    const pod = (word: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: keep}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n` +
      `    - name: main\n      image: ${image}\n      env: [{name: V, valueFrom: {configMapKeyRef: {name: kc, key: V}}}]\n` +
      `      command: [sh, -c, "echo ${word} $$V; trap 'exit 0' TERM; while true; do sleep 0.1; done"]\n`;
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kc}\ndata: {V: one}\n---\n';
    await writeFile(join(dir, 'keep.yaml'), cm + pod('first'));
    expect((await berth('apply', dir)).code).toBe(0);
    const ids = async () =>
      (
        JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
          name: string;
          id: string;
        }>
      )
        .filter((c) => c.name === 'keep_main')
        .map((c) => c.id);
    const before = await podNamed('keep');
    const idsBefore = await ids();
    expect([before?.containers[0]?.state, idsBefore.length]).toEqual(['running', 1]);
    // The ConfigMap goes, and the pod's command changes in the same edit.
    await writeFile(join(dir, 'keep.yaml'), pod('second'));
    // A file that lost a document is held for its settle time (2 s) as possibly half written: date it back.
    const past = new Date(Date.now() - 10_000);
    await utimes(join(dir, 'keep.yaml'), past, past);
    const plan = await berth('plan', dir);
    expect(plan.stdout.split('\n').filter((l) => l.includes('keep'))).toEqual([
      `${'wait'.padEnd(12)} keep: waiting for ConfigMap kc`,
    ]);
    const apply = await berth('apply', dir);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    const after = await podNamed('keep');
    expect([after?.waiting, after?.containers[0]?.state, after?.containers[0]?.pid, await ids()]).toEqual([
      'keep: waiting for ConfigMap kc',
      'running',
      before?.containers[0]?.pid,
      idsBefore,
    ]);
    expect((await berth('logs', 'keep')).stdout).toBe('first one\n');
    await rm(join(dir, 'keep.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  }, 180_000);
});
