// README promises about Pod YAML, end to end as root with real runc, conmon and overlayfs, each
// asserted inside the container or in `ps`: a ConfigMap is looked up in the pod's namespace; the
// downward API's uid, serviceAccountName and host addresses, an empty podIP with only loopback
// (`berth.dev/network: none`); downwardAPI and projected volumes are tmpfs nosuid,nodev; seccomp
// RuntimeDefault filters and Unconfined does not; capabilities `ALL` and a `CAP_` prefix; a native
// sidecar restarted whatever the pod's policy, and stopped once the app has finished for good; a pod
// whose ConfigMap goes missing waits and what runs is kept.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podUid } from '../../src/reconcile/downward.js';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from '../../src/runtime/defaults.js';
import { runBerth } from '../helpers/cli.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

/** The host's bounding set, as the test process sees it (the container cannot have more). */
const hostBound = BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]}`);
const capMask = (caps: string[]) =>
  caps.reduce((m, c) => m | (1n << BigInt(ALL_CAPABILITIES.indexOf(c))), 0n) & hostBound;
const hex = (m: bigint) => m.toString(16).padStart(16, '0');

describe.skipIf(skip)('Pod YAML promises, in effect', () => {
  let registry: TestRegistry;
  let layout: Layout;
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
    work = await mkdtemp(join(tmpdir(), 'berth-podpromises-'));
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
    await rm(work, { recursive: true, force: true });
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
  });
});
