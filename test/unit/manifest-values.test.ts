// Values the schema lets through but the host cannot use: each is a diagnostic of its file at its
// node, found when the folder loads (so `validate` says so), the file falls back like any broken
// file, and no pass ever throws for it; other pods are planned as if it were not there.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import type { LoadedDoc, PodManifest } from '../../src/manifest/kinds.js';
import { lastGoodStore } from '../../src/manifest/last-good.js';
import { loadManifests } from '../../src/manifest/load.js';
import { desiredState } from '../../src/reconcile/desired.js';
import { frozenPods } from '../../src/reconcile/frozen.js';
import { ANNOTATION, type ObservedState, OWNER_MANIFESTS, plan } from '../../src/reconcile/plan.js';
import { runBerth } from '../helpers/cli.js';
import { manifestFolders } from '../helpers/manifest-folders.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
const NOW = Date.parse('2026-11-30T12:00:00Z');

const folder = manifestFolders('values');

/** A pod whose one container has `lines` (indented as container fields) after its image. */
const pod = (name: string, lines = '', image = 'busybox:1', container = 'main') =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n    - name: ${container}\n      image: ${image}\n${lines}`;
const limits = (memory?: string, cpu?: string) =>
  `      resources:\n        limits:\n${memory === undefined ? '' : `          memory: ${memory}\n`}${cpu === undefined ? '' : `          cpu: ${cpu}\n`}`;

/** An observed container of pod `name`, created from `file`, exited (a crash to restart). */
const exited = (name: string, file: string): ObservedState['containers'][0] => ({
  id: `${name}-id`,
  name: `${name}_main`,
  state: 'exited',
  exitCode: 1,
  startedAt: '2026-11-30T11:00:00Z',
  finishedAt: '2026-11-30T11:30:00Z',
  annotations: {
    [ANNOTATION.owner]: OWNER_MANIFESTS,
    [ANNOTATION.pod]: name,
    [ANNOTATION.container]: 'main',
    [ANNOTATION.source]: file,
    [ANNOTATION.hash]: 'old',
    [ANNOTATION.spec]: '{}',
  },
});

describe('a value the host cannot use is a diagnostic at its node', () => {
  it.each([
    [
      'memory: 128m (0.128 bytes, rounded up to 1)',
      pod('a', limits('128m')),
      '11:19: ERR_BAD_QUANTITY: memory limit "128m" is 1 byte(s): below berth\'s floor of 6Mi (runc itself needs about 3 MiB to start a container)',
    ],
    [
      'a memory request above a memory limit of 0 (a cluster refuses it)',
      pod('a', `${limits('0')}        requests:\n          memory: 64Mi\n`),
      '13:19: ERR_MANIFEST_INVALID: memory request 64Mi is more than its limit 0 (a cluster rejects it too)',
    ],
    [
      'a cpu request above a cpu limit of 0m',
      pod('a', `${limits(undefined, '0m')}        requests:\n          cpu: 1m\n`),
      '13:16: ERR_MANIFEST_INVALID: cpu request 1m is more than its limit 0m (a cluster rejects it too)',
    ],
    [
      'cpu finer than 1m',
      pod('a', limits(undefined, '"0.0001"')),
      '11:16: ERR_BAD_QUANTITY: cpu limit "0.0001" is less than 1m, the smallest CPU unit',
    ],
    [
      'memory: .inf (a YAML number)',
      pod('a', limits('.inf')),
      '11:19: ERR_BAD_QUANTITY: memory limit Infinity is not a finite number',
    ],
    [
      'a negative string',
      pod('a', limits('"-1Gi"')),
      '11:19: ERR_BAD_QUANTITY: memory limit "-1Gi" is negative',
    ],
    [
      'a negative request',
      pod('a', '      resources:\n        requests:\n          cpu: "-100m"\n'),
      '11:16: ERR_BAD_QUANTITY: cpu request "-100m" is negative',
    ],
    [
      'an upper-case image reference',
      pod('a', '', 'BusyBox:1'),
      '8:14: ERR_REFERENCE_INVALID: invalid reference "BusyBox:1": repository must be lowercase ("BusyBox")',
    ],
    [
      'an image reference the parser refuses',
      pod('a', '', '"busybox:"'),
      '8:14: ERR_REFERENCE_INVALID: invalid reference "busybox:": bad tag ""',
    ],
    [
      'an Image whose ref the parser refuses',
      'apiVersion: berth.dev/v1alpha1\nkind: Image\nmetadata: {name: base}\nspec:\n  ref: BusyBox:1\n',
      '5:8: ERR_REFERENCE_INVALID: invalid reference "BusyBox:1": repository must be lowercase ("BusyBox")',
    ],
  ])('%s', async (_what, text, want) => {
    const d = await folder({ 'a.yaml': text });
    const r = await loadManifests(d);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([`${join(d, 'a.yaml')}:${want}`]);
    expect([r.brokenFiles, r.docs]).toEqual([[join(d, 'a.yaml')], []]);
  });

  it('a cpu or memory limit of 0 is none, as the kubelet reads it (with a request of 0 too): the pod loads and runs unlimited', async () => {
    const text = pod('a', `${limits('"0Mi"', '0')}        requests:\n          cpu: "0"\n`);
    const d = await folder({ 'a.yaml': text });
    const r = await loadManifests(d);
    expect(r.diagnostics).toEqual([]);
    expect(desiredState(r.docs, host).pods[0]?.containers[0]?.settings.resources).toBeUndefined();
  });

  it('names as long as Kubernetes allows load: a 191-character runtime name <namespace>.<pod>_<container>', async () => {
    const [ns, name, container] = ['n', 'p', 'c'].map((c) => c.repeat(63)) as [string, string, string];
    const text = pod(name, '', 'busybox:1', container).replace(
      `name: ${name}\n`,
      `name: ${name}\n  namespace: ${ns}\n`,
    );
    const d = await folder({ 'a.yaml': text });
    const r = await loadManifests(d);
    expect(r.diagnostics).toEqual([]);
    expect(desiredState(r.docs, host).pods[0]?.containers[0]?.runtimeName).toBe(`${ns}.${name}_${container}`);
  });
});

describe('the reproduction: pod A with memory: 128m next to a valid pod B', () => {
  const files = { 'a.yaml': pod('a', limits('128m')), 'b.yaml': pod('b', limits('64Mi', '250m')) };
  const where = '11:19: ERR_BAD_QUANTITY: memory limit "128m" is 1 byte(s)';

  it('validate exits non-zero and names A at its line and column', async () => {
    const d = await folder(files);
    const r = await runBerth(['validate', d]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `${join(d, 'a.yaml')}:${where}: below berth's floor of 6Mi (runc itself needs about 3 MiB to start a container)\n`,
    );
    expect(r.stdout).toBe('2 file(s), 1 pod(s), 0 image(s); 1 problem(s) in 1 file(s)\n');
  });

  it('plan creates B and leaves A as it runs', async () => {
    const d = await folder(files);
    const loaded = await loadManifests(d);
    const desired = desiredState(loaded.docs, host);
    expect(desired.pods.map((p) => [p.name, p.containers[0]?.settings.resources])).toEqual([
      ['b', { memoryBytes: 64 * 2 ** 20, milliCpus: 250 }],
    ]);
    const observed: ObservedState = {
      images: new Map(),
      containers: [exited('a', join(d, 'a.yaml'))],
      sandboxes: new Map([
        [
          'a',
          {
            netns: true,
            network: { state: 'ready' as const, ports: [] },
            volumes: {},
            source: join(d, 'a.yaml'),
          },
        ],
      ]),
    };
    const frozen = frozenPods(loaded, observed, desired);
    expect(
      plan({ folder: d, desired, observed, frozen, now: NOW }).map((a) => `${a.kind} ${a.reason}`),
    ).toEqual([
      'pull docker.io/library/busybox:1: not in the store (b/main)',
      `wait a: kept as it runs (${join(d, 'a.yaml')} has errors)`,
      'setup-pod b: new pod (network namespace, volumes)',
      'run b/main: new container',
    ]);
  });

  it('an edit to 128m falls back on the last good content (64Mi), which is kept', async () => {
    const d = await folder({ 'a.yaml': pod('a', limits('64Mi')), 'b.yaml': files['b.yaml'] });
    const store = lastGoodStore(`${d}-last-good`);
    const keep = { lastGood: store, keepLastGood: true };
    await loadManifests(d, keep);
    await writeFile(join(d, 'a.yaml'), files['a.yaml']);
    const r = await loadManifests(d, keep);
    expect(r.fromLastGood).toEqual([join(d, 'a.yaml')]);
    const desired = desiredState(r.docs, host);
    expect(desired.pods.map((p) => [p.name, p.containers[0]?.settings.resources?.memoryBytes])).toEqual([
      ['a', 64 * 2 ** 20],
      ['b', 64 * 2 ** 20],
    ]);
    expect((await store.read(d))['a.yaml']).toBe(pod('a', limits('64Mi')));
  });
});

describe('desired state never throws for one pod', () => {
  const doc = (name: string, image: string, memory?: string): LoadedDoc => ({
    file: `/m/${name}.yaml`,
    line: 3,
    doc: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: {
        containers: [{ name: 'main', image, ...(memory ? { resources: { limits: { memory } } } : {}) }],
      },
    } as PodManifest,
  });

  it('what cannot be built is a diagnostic of its file at the document, kept as it runs; the rest is built', () => {
    const desired = desiredState(
      [
        doc('a', 'busybox', '128m'),
        doc('b', 'busybox'),
        doc('c', 'BusyBox:1'),
        {
          file: '/m/i.yaml',
          line: 7,
          doc: {
            apiVersion: 'berth.dev/v1alpha1',
            kind: 'Image',
            metadata: { name: 'i' },
            spec: { ref: '::' },
          },
        },
      ],
      host,
    );
    expect(desired.pods.map((p) => p.name)).toEqual(['b']);
    expect(desired.images).toEqual([]);
    expect(desired.unusable?.map((u) => [u.kind, u.name, formatDiagnostic(u.diagnostic)])).toEqual([
      [
        'Pod',
        'a',
        '/m/a.yaml:3:1: ERR_BAD_QUANTITY: Pod a cannot be used: memory limit "128m" is 1 byte(s): below berth\'s floor of 6Mi (runc itself needs about 3 MiB to start a container)',
      ],
      [
        'Pod',
        'c',
        '/m/c.yaml:3:1: ERR_REFERENCE_INVALID: Pod c cannot be used: invalid reference "BusyBox:1": repository must be lowercase ("BusyBox")',
      ],
      [
        'Image',
        'i',
        '/m/i.yaml:7:1: ERR_REFERENCE_INVALID: Image i cannot be used: invalid reference "::": bad tag ""',
      ],
    ]);
    const observed: ObservedState = {
      images: new Map(),
      containers: [exited('a', '/m/a.yaml')],
      sandboxes: new Map([
        [
          'a',
          { netns: true, network: { state: 'ready' as const, ports: [] }, volumes: {}, source: '/m/a.yaml' },
        ],
      ]),
    };
    const loaded = {
      docs: [],
      diagnostics: [],
      brokenFiles: [],
      fromLastGood: [],
      settling: [],
      duplicates: [],
      files: [],
    };
    expect([...frozenPods(loaded, observed, desired)]).toEqual([
      ['a', '/m/a.yaml has errors'],
      ['c', '/m/c.yaml has errors'],
    ]);
  });
});
