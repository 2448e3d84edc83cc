// ConfigMaps, Secrets and the downward API in desired state and the plan (pure): env from
// references, envFrom, $(VAR), a missing reference that makes its pod wait, a changed key named
// in the plan (never a value), config volumes written in place; and the kinds as the loader reads
// them. Each plan case asserts the whole plan.
import { describe, expect, it } from 'vitest';
import type { LoadedDoc, ManifestDoc, PodManifest } from '../../src/manifest/kinds.js';
import { parseFile } from '../../src/manifest/parse.js';
import { type DesiredState, desiredState } from '../../src/reconcile/desired.js';
import { POD_IP_MARKER, podUid } from '../../src/reconcile/downward.js';
import { ANNOTATION, type ObservedContainer, OWNER_MANIFESTS, plan } from '../../src/reconcile/plan.js';
import type { Action } from '../../src/reconcile/plan-types.js';
import { removeWritersFirst } from '../../src/reconcile/plan-volumes.js';
import { needsPodAddress, withPodAddress } from '../../src/reconcile/pod-address.js';
import type { ObservedSandbox } from '../../src/reconcile/sandbox.js';
import { canonicalSpec, specHash } from '../../src/reconcile/spec-hash.js';

const node = { name: 'edge-1', ip: '192.0.2.7', milliCpus: 2000, memoryBytes: 4 * 2 ** 30 };
const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns', node };
const IMG = 'registry.lan/app:1';
const DIGEST = 'sha256:aaa';
const NOW = Date.parse('2026-11-30T12:00:00Z');
const SECRET = 'hunter2-very-secret';
const b64 = (s: string) => Buffer.from(s).toString('base64');

const doc = (d: ManifestDoc, file = '/m/all.yaml'): LoadedDoc => ({ doc: d, file, line: 1 });
const configMap = (data: Record<string, string>, name = 'web-config'): LoadedDoc =>
  doc({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
const secret = (password: string): LoadedDoc =>
  doc({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'db' },
    data: { password: Buffer.from(password).toString('base64') },
  });

function pod(c: Partial<PodManifest['spec']['containers'][0]>, spec: Partial<PodManifest['spec']> = {}) {
  const p: PodManifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', labels: { app: 'web', tier: 'front "a"' }, annotations: { note: 'x' } },
    spec: { containers: [{ name: 'main', image: IMG, ...c }], ...spec },
  };
  return doc(p, '/m/web.yaml');
}

const envOf = (d: DesiredState) => d.pods[0]?.containers[0]?.settings.env;
const summary = (actions: ReturnType<typeof plan>) => actions.map((a) => `${a.kind} ${a.reason}`);
const images = new Map([[IMG, DIGEST]]);
const sandbox = (stamps: Record<string, string> = {}, volumes: Record<string, boolean> = {}) =>
  new Map<string, ObservedSandbox>([
    ['web', { netns: true, volumes, stamps, source: '/m/web.yaml', network: { state: 'ready', ports: [] } }],
  ]);

function running(d: DesiredState): ObservedContainer {
  const spec = canonicalSpec(
    d.pods[0]?.containers[0] as NonNullable<DesiredState['pods'][0]['containers'][0]>,
    DIGEST,
  );
  return {
    id: 'web-main-id',
    name: 'web_main',
    state: 'running',
    exitCode: null,
    startedAt: '2026-11-30T11:00:00Z',
    finishedAt: null,
    annotations: {
      [ANNOTATION.owner]: OWNER_MANIFESTS,
      [ANNOTATION.pod]: 'web',
      [ANNOTATION.container]: 'main',
      [ANNOTATION.source]: '/m/web.yaml',
      [ANNOTATION.hash]: specHash(spec),
      [ANNOTATION.spec]: JSON.stringify(spec),
    },
  };
}

const planOf = (desired: DesiredState, containers: ObservedContainer[], sandboxes = sandbox()) =>
  plan({ folder: '/m', desired, observed: { images, containers, sandboxes }, frozen: new Map(), now: NOW });

describe('a plan of many pods', () => {
  it('40k pods gone from the manifests: each stopped and torn down, in linear time', () => {
    // Each gone pod filtered every container on the host for its own: pods × containers.
    const n = 40_000;
    const web = running(desiredState([pod({})], host));
    const gone = Array.from({ length: n }, (_, i) => ({
      ...web,
      id: `g${i}-id`,
      annotations: { ...web.annotations, [ANNOTATION.pod]: `g${i}` },
    }));
    const actions = planOf(desiredState([], host), gone, new Map());
    expect(actions.length).toBe(2 * n);
    expect(summary(actions.slice(0, 2))).toEqual([
      'remove g0/main: no longer in the manifests',
      'teardown-pod g0: no longer in the manifests',
    ]);
  }, 10_000);
});

describe('env from ConfigMaps, Secrets and the downward API', () => {
  it('envFrom (with prefix), then env in order; $(VAR) sees what came before; command and args expanded', () => {
    const d = desiredState(
      [
        configMap({ MODE: 'fast', LEVEL: '3', 'bad=key': 'skipped' }),
        secret(SECRET),
        pod({
          envFrom: [{ configMapRef: { name: 'web-config' }, prefix: 'CFG_' }],
          env: [
            { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'MODE' } } },
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
            { name: 'URL', value: 'db://$(MODE):$$(MODE)@$(NOPE)/$(CFG_LEVEL)' },
            { name: 'CFG_LEVEL', value: '4' },
          ],
          command: ['/bin/run', '--mode=$(MODE)'],
          args: ['$(URL)', '$$(URL)', '$(LATER)'],
        }),
      ],
      host,
    );
    expect(envOf(d)).toEqual([
      'CFG_MODE=fast',
      'CFG_LEVEL=4',
      'MODE=fast',
      `PASSWORD=${SECRET}`,
      'URL=db://fast:$(MODE)@$(NOPE)/3',
    ]);
    expect(d.pods[0]?.containers[0]?.settings.entrypoint).toEqual(['/bin/run', '--mode=fast']);
    expect(d.pods[0]?.containers[0]?.settings.command).toEqual([
      'db://fast:$(MODE)@$(NOPE)/3',
      '$(URL)',
      '$(LATER)',
    ]);
    expect(d.pods[0]?.waitingFor).toBeUndefined();
  });

  it("the Kubernetes docs' dependent env vars (tasks/inject-data-application/define-interdependent-environment-variables)", () => {
    const d = desiredState(
      [
        pod({
          env: [
            { name: 'SERVICE_PORT', value: '80' },
            { name: 'SERVICE_IP', value: '172.17.0.1' },
            { name: 'UNCHANGED_REFERENCE', value: '$(PROTOCOL)://$(SERVICE_IP):$(SERVICE_PORT)' },
            { name: 'PROTOCOL', value: 'https' },
            { name: 'SERVICE_ADDRESS', value: '$(PROTOCOL)://$(SERVICE_IP):$(SERVICE_PORT)' },
            { name: 'ESCAPED_REFERENCE', value: '$$(PROTOCOL)://$(SERVICE_IP):$(SERVICE_PORT)' },
          ],
        }),
      ],
      host,
    );
    // The page's printed result, line for line.
    expect(envOf(d)?.slice(2)).toEqual([
      'UNCHANGED_REFERENCE=$(PROTOCOL)://172.17.0.1:80',
      'PROTOCOL=https',
      'SERVICE_ADDRESS=https://172.17.0.1:80',
      'ESCAPED_REFERENCE=$(PROTOCOL)://172.17.0.1:80',
    ]);
  });

  it('fieldRef and resourceFieldRef (divisor, rounded up; no limit: the host; no request: the limit)', () => {
    const ref = (fieldPath: string) => ({ valueFrom: { fieldRef: { fieldPath } } });
    const res = (resource: string, divisor?: string) => ({
      valueFrom: { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}) } },
    });
    const d2 = desiredState(
      [
        pod(
          {
            resources: { limits: { cpu: '250m', memory: '64Mi' } },
            env: [
              { name: 'NAME', ...ref('metadata.name') },
              { name: 'NS', ...ref('metadata.namespace') },
              { name: 'UID', ...ref('metadata.uid') },
              { name: 'APP', ...ref("metadata.labels['app']") },
              { name: 'NONE', ...ref("metadata.labels['none']") },
              { name: 'NOTE', ...ref("metadata.annotations['note']") },
              { name: 'NODE', ...ref('spec.nodeName') },
              { name: 'SA', ...ref('spec.serviceAccountName') },
              { name: 'HOST_IP', ...ref('status.hostIP') },
              { name: 'POD_IP', ...ref('status.podIP') },
              { name: 'CPU', ...res('limits.cpu') },
              { name: 'CPU_M', ...res('limits.cpu', '1m') },
              { name: 'MEM_MI', ...res('limits.memory', '1Mi') },
              { name: 'REQ_MEM', ...res('requests.memory', '1Mi') },
            ],
          },
          { serviceAccountName: 'robot' },
        ),
        doc({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'bare' },
          spec: {
            containers: [
              {
                name: 'main',
                image: IMG,
                env: [
                  { name: 'CPU_M', ...res('limits.cpu', '1m') },
                  { name: 'MEM', ...res('limits.memory', '1Gi') },
                  { name: 'REQ_CPU', ...res('requests.cpu', '1m') },
                ],
              },
            ],
          },
        }),
      ],
      host,
    );
    const web = d2.pods.find((p) => p.name === 'web');
    expect(web?.containers[0]?.settings.env).toEqual([
      'NAME=web',
      'NS=default',
      `UID=${podUid('default', 'web')}`,
      'APP=web',
      'NONE=',
      'NOTE=x',
      'NODE=edge-1',
      'SA=robot',
      'HOST_IP=192.0.2.7',
      // Known once the sandbox is on the network: put in when the container is created.
      `POD_IP=${POD_IP_MARKER}`,
      'CPU=1',
      'CPU_M=250',
      'MEM_MI=64',
      'REQ_MEM=64',
    ]);
    expect(d2.pods.find((p) => p.name === 'bare')?.containers[0]?.settings.env).toEqual([
      'CPU_M=2000',
      'MEM=4',
      'REQ_CPU=0',
    ]);
    expect(podUid('default', 'web')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('resourceFieldRef of ephemeral-storage and hugepages (a cluster takes them): as given; no ephemeral-storage limit: the root file system; no hugepages: 0', () => {
    const res = (resource: string, divisor?: string) => ({
      valueFrom: { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}) } },
    });
    const env = [
      { name: 'EPH', ...res('limits.ephemeral-storage', '1Mi') },
      { name: 'EPH_REQ', ...res('requests.ephemeral-storage', '1Mi') },
      { name: 'HUGE', ...res('limits.hugepages-2Mi', '1Mi') },
      { name: 'HUGE_REQ', ...res('requests.hugepages-2Mi') },
    ];
    const withStorage = { ...host, node: { ...node, ephemeralStorageBytes: 10 * 2 ** 30 } };
    const given = pod({
      env,
      resources: {
        limits: { 'ephemeral-storage': '2Gi', 'hugepages-2Mi': '4Mi' },
        requests: { 'ephemeral-storage': '1Gi' },
      } as never,
    });
    expect(desiredState([given], withStorage).pods[0]?.containers[0]?.settings.env).toEqual([
      'EPH=2048',
      'EPH_REQ=1024',
      'HUGE=4',
      'HUGE_REQ=4194304',
    ]);
    expect(desiredState([pod({ env })], withStorage).pods[0]?.containers[0]?.settings.env).toEqual([
      'EPH=10240',
      'EPH_REQ=0',
      'HUGE=0',
      'HUGE_REQ=0',
    ]);
  });

  it('status.podIP: the host address with hostNetwork, none on loopback, the bridge address put in at creation', () => {
    const addressed = (name: string, spec: Record<string, unknown>, annotations?: Record<string, string>) =>
      doc({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, ...(annotations ? { annotations } : {}) },
        spec: {
          ...spec,
          containers: [
            {
              name: 'main',
              image: IMG,
              args: ['--listen=$(IP):80'],
              env: [
                { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                { name: 'IPS', valueFrom: { fieldRef: { fieldPath: 'status.podIPs' } } },
                { name: 'URL', value: 'http://$(IP)/' },
              ],
            },
          ],
        },
      });
    const d = desiredState(
      [
        addressed('onhost', { hostNetwork: true }),
        addressed('alone', {}, { 'berth.dev/network': 'none' }),
        addressed('bridged', {}),
      ],
      host,
    );
    const settings = (n: string) => d.pods.find((p) => p.name === n)?.containers[0]?.settings;
    expect(settings('onhost')?.env).toEqual(['IP=192.0.2.7', 'IPS=192.0.2.7', 'URL=http://192.0.2.7/']);
    expect(settings('alone')?.env).toEqual(['IP=', 'IPS=', 'URL=http:///']);
    const bridged = settings('bridged');
    expect(bridged && needsPodAddress(bridged)).toBe(true);
    expect(needsPodAddress(settings('onhost') as NonNullable<typeof bridged>)).toBe(false);
    const filled = withPodAddress(bridged as NonNullable<typeof bridged>, '10.88.0.5');
    expect([filled.env, filled.command, needsPodAddress(filled)]).toEqual([
      ['IP=10.88.0.5', 'IPS=10.88.0.5', 'URL=http://10.88.0.5/'],
      ['--listen=10.88.0.5:80'],
      false,
    ]);
  });

  it('a missing reference makes the pod wait, saying what it waits for; an optional one is left out', () => {
    const d = desiredState(
      [
        configMap({ MODE: 'fast' }),
        pod({
          env: [
            { name: 'A', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'NOPE' } } },
            { name: 'B', valueFrom: { secretKeyRef: { name: 'absent', key: 'x' } } },
            { name: 'C', valueFrom: { secretKeyRef: { name: 'absent2', key: 'x', optional: true } } },
            {
              name: 'D',
              valueFrom: { configMapKeyRef: { name: 'web-config', key: 'NOPE2', optional: true } },
            },
          ],
          envFrom: [{ secretRef: { name: 'absent3', optional: true } }, { configMapRef: { name: 'gone' } }],
        }),
      ],
      host,
    );
    expect(envOf(d)).toEqual([]);
    expect(summary(planOf(d, [], new Map()))).toEqual([
      'wait web: waiting for ConfigMap gone, key NOPE of ConfigMap web-config, Secret absent',
    ]);
  });

  it('a subPathExpr of a $(VAR) whose ConfigMap is not there yet waits with its pod; an empty value is refused (review)', () => {
    const withExpr = (value: object) =>
      pod(
        {
          env: [{ name: 'DIR', ...value }],
          volumeMounts: [{ name: 'data', mountPath: '/data', subPathExpr: '$(DIR)' }],
        },
        { volumes: [{ name: 'data', emptyDir: {} }] },
      );
    const waiting = desiredState(
      [withExpr({ valueFrom: { configMapKeyRef: { name: 'later', key: 'dir' } } })],
      host,
    );
    expect([waiting.pods[0]?.waitingFor, waiting.unusable ?? []]).toEqual([['ConfigMap later'], []]);
    const empty = desiredState([withExpr({ value: '' })], host);
    expect(empty.pods).toEqual([]);
    expect(empty.unusable?.[0]?.diagnostic.message).toMatch(/missing value for DIR/);
  });

  it("env takes a ConfigMap's data, never its binaryData (the kubelet's rule); a volume takes both", () => {
    const cm = doc({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'web-config' },
      data: { TEXT: 't' },
      binaryData: { BLOB: b64('b') },
    });
    const d = desiredState(
      [
        cm,
        pod(
          {
            envFrom: [{ configMapRef: { name: 'web-config' } }],
            env: [{ name: 'B', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'BLOB' } } }],
          },
          { volumes: [{ name: 'c', configMap: { name: 'web-config' } }] },
        ),
      ],
      host,
    );
    expect(envOf(d)).toEqual(['TEXT=t']);
    expect(d.pods[0]?.waitingFor).toEqual(['key BLOB of ConfigMap web-config']);
    expect(d.volumeFiles?.get('/r/pods/web/volumes/c')?.map((f) => `${f.path}=${f.data}`)).toEqual([
      'BLOB=b',
      'TEXT=t',
    ]);
  });

  it('a missing reference of a pod that runs keeps it as it runs', () => {
    const before = desiredState(
      [configMap({ MODE: 'a' }), pod({ envFrom: [{ configMapRef: { name: 'web-config' } }] })],
      host,
    );
    const after = desiredState([pod({ envFrom: [{ configMapRef: { name: 'web-config' } }] })], host);
    expect(summary(planOf(after, [running(before)]))).toEqual(['wait web: waiting for ConfigMap web-config']);
  });

  it('a changed ConfigMap key recreates the container, and the plan names the key', () => {
    const spec = {
      env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'MODE' } } }],
    };
    const before = desiredState([configMap({ MODE: 'a', OTHER: '1' }), pod(spec)], host);
    const after = desiredState([configMap({ MODE: 'b', OTHER: '2' }), pod(spec)], host);
    expect(summary(planOf(after, [running(before)]))).toEqual([
      'remove web/main: ConfigMap web-config key MODE changed',
      'run web/main: ConfigMap web-config key MODE changed',
    ]);
    // A key it does not use changes nothing.
    expect(
      planOf(desiredState([configMap({ MODE: 'a', OTHER: '9' }), pod(spec)], host), [running(before)]),
    ).toEqual([]);
  });

  it('a changed Secret names its key and never its value, in the plan or the stored spec', () => {
    const spec = {
      env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
      envFrom: [{ secretRef: { name: 'db' }, prefix: 'DB_' }],
    };
    const before = desiredState([secret(SECRET), pod(spec)], host);
    const after = desiredState([secret(`${SECRET}-2`), pod(spec)], host);
    const old = running(before);
    expect(old.annotations[ANNOTATION.spec]).not.toMatch(/hunter2/);
    const actions = planOf(after, [old]);
    expect(summary(actions)).toEqual([
      'remove web/main: Secret db key password changed',
      'run web/main: Secret db key password changed',
    ]);
    expect(JSON.stringify(actions)).not.toMatch(/hunter2/);
    expect(JSON.stringify(canonicalSpec(after.pods[0]?.containers[0] as never, DIGEST))).not.toMatch(
      /hunter2/,
    );
  });
});

describe('env names that are also Object.prototype names', () => {
  it('a Secret value under `__proto__` stays out of the stored spec; an edit of a plain `constructor` is seen', () => {
    const spec = (value: string) => ({
      env: [
        { name: '__proto__', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'constructor', value },
      ],
      envFrom: [{ secretRef: { name: 'db' } }],
    });
    const before = desiredState([secret(SECRET), pod(spec('a'))], host);
    const old = running(before);
    expect(old.annotations[ANNOTATION.spec]).not.toMatch(/hunter2/);
    expect(old.annotations[ANNOTATION.spec]).toMatch(/constructor=a/);
    const after = desiredState([secret(SECRET), pod(spec('b'))], host);
    expect(summary(planOf(after, [old])).map((s) => s.split(':')[0])).toEqual([
      'remove web/main',
      'run web/main',
    ]);
  });
});

describe('config volumes', () => {
  const volumes = [
    {
      name: 'config',
      configMap: { name: 'web-config', items: [{ key: 'MODE', path: 'conf/mode', mode: 0o600 }] },
    },
    { name: 'creds', secret: { secretName: 'db', defaultMode: 0o400 } },
    {
      name: 'info',
      downwardAPI: {
        items: [
          { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
          {
            path: 'mem',
            resourceFieldRef: { containerName: 'main', resource: 'limits.memory', divisor: '1Mi' },
          },
        ],
      },
    },
    { name: 'maybe', configMap: { name: 'absent', optional: true } },
  ];
  const mounts = [
    { name: 'config', mountPath: '/etc/web' },
    { name: 'creds', mountPath: '/run/secrets/db.txt', subPath: 'password' },
  ];
  const make = (mode: string) =>
    desiredState(
      [
        configMap({ MODE: mode }),
        secret(SECRET),
        pod({ volumeMounts: mounts, resources: { limits: { memory: '32Mi' } } }, { volumes }),
      ],
      host,
    );

  it('files with their modes; secrets and downward API on tmpfs; mounts read-only, a subPath inside ..data', () => {
    const d = make('a');
    const files = Object.fromEntries(
      [...(d.volumeFiles ?? [])].map(([path, list]) => [
        path,
        list.map((f) => `${f.path} ${f.mode.toString(8)} ${f.data.toString()}`),
      ]),
    );
    expect(files).toEqual({
      '/r/pods/web/volumes/config': ['conf/mode 600 a'],
      '/r/pods/web/volumes/creds': [`password 400 ${SECRET}`],
      '/r/pods/web/volumes/info': ['labels 644 app="web"\ntier="front \\"a\\""\n', 'mem 644 32'],
      '/r/pods/web/volumes/maybe': [],
    });
    expect(d.pods[0]?.podDirs).toEqual([
      { path: '/r/pods/web/volumes/config', memory: false, mode: 0o755 },
      { path: '/r/pods/web/volumes/creds', memory: true, mode: 0o755 },
      { path: '/r/pods/web/volumes/info', memory: true, mode: 0o755 },
      { path: '/r/pods/web/volumes/maybe', memory: false, mode: 0o755 },
    ]);
    expect(d.pods[0]?.containers[0]?.settings.mounts).toEqual([
      { kind: 'bind', source: '/r/pods/web/volumes/config', destination: '/etc/web', readOnly: true },
      {
        kind: 'bind',
        source: '/r/pods/web/volumes/creds',
        destination: '/run/secrets/db.txt',
        readOnly: true,
        subPath: 'password',
        dataLink: true,
      },
    ]);
    expect(JSON.stringify(d.pods)).not.toMatch(/hunter2/);
  });

  it('a projected volume merges its configMap, secret and downwardAPI sources (on tmpfs: it holds a secret)', () => {
    const d = desiredState(
      [
        configMap({ MODE: 'a', OTHER: 'b' }),
        secret(SECRET),
        pod(
          { volumeMounts: [{ name: 'all', mountPath: '/etc/all' }] },
          {
            volumes: [
              {
                name: 'all',
                projected: {
                  defaultMode: 0o440,
                  sources: [
                    { configMap: { name: 'web-config', items: [{ key: 'MODE', path: 'config/mode' }] } },
                    { secret: { name: 'db', items: [{ key: 'password', path: 'secret/pw', mode: 0o400 }] } },
                    { downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
                    { secret: { name: 'absent', optional: true } },
                  ],
                },
              },
            ],
          },
        ),
      ],
      host,
    );
    expect(
      d.volumeFiles?.get('/r/pods/web/volumes/all')?.map((f) => `${f.path} ${f.mode.toString(8)} ${f.data}`),
    ).toEqual(['config/mode 440 a', 'name 440 web', `secret/pw 400 ${SECRET}`]);
    expect(d.pods[0]?.podDirs).toEqual([{ path: '/r/pods/web/volumes/all', memory: true, mode: 0o755 }]);
    expect(d.pods[0]?.waitingFor).toBeUndefined();
  });

  it("one item path given twice is the last item's file, as the kubelet's payload map keeps it", () => {
    const d = desiredState(
      [
        configMap({ MODE: 'a', OTHER: 'b' }),
        pod(
          { volumeMounts: [{ name: 'c', mountPath: '/etc/c' }] },
          {
            volumes: [
              {
                name: 'c',
                configMap: {
                  name: 'web-config',
                  items: [
                    { key: 'MODE', path: 'conf', mode: 0o600 },
                    { key: 'OTHER', path: 'conf' },
                  ],
                },
              },
            ],
          },
        ),
      ],
      host,
    );
    expect(
      d.volumeFiles?.get('/r/pods/web/volumes/c')?.map((f) => `${f.path} ${f.mode.toString(8)} ${f.data}`),
    ).toEqual(['conf 644 b']);
  });

  it('a new pod: its volumes are written after the sandbox and before its container', () => {
    expect(summary(planOf(make('a'), [], new Map()))).toEqual([
      'setup-pod web: new pod (network namespace, volumes)',
      'write-volume web: volume config from ConfigMap web-config',
      'write-volume web: volume creds from Secret db',
      'write-volume web: volume info from downward API',
      'write-volume web: volume maybe from ConfigMap absent',
      'run web/main: new container',
    ]);
  });

  it('a changed ConfigMap rewrites its volume in place; the container is left running', () => {
    const before = make('a');
    const after = make('b');
    const stamps = Object.fromEntries((before.pods[0]?.configVolumes ?? []).map((v) => [v.path, v.stamp]));
    const mounted = { '/r/pods/web/volumes/creds': true, '/r/pods/web/volumes/info': true };
    const dirs = { ...mounted, '/r/pods/web/volumes/config': false, '/r/pods/web/volumes/maybe': false };
    expect(planOf(before, [running(before)], sandbox(stamps, dirs))).toEqual([]);
    expect(summary(planOf(after, [running(before)], sandbox(stamps, dirs)))).toEqual([
      'write-volume web: volume config ConfigMap web-config changed: updated in place',
    ]);
  });

  it('an emptyDir that becomes a config volume: its containers go before it is written (they could write it)', () => {
    // The same directory, pods/web/volumes/config: written while the old container still ran, it
    // could race berth's removal of what it left there (a directory swapped for a link to /etc)
    // and rewrite the files the new container reads.
    const emptyDir = desiredState(
      [
        pod(
          { volumeMounts: [{ name: 'config', mountPath: '/etc/web' }] },
          { volumes: [{ name: 'config', emptyDir: {} }] },
        ),
      ],
      host,
    );
    const config = desiredState(
      [
        configMap({ MODE: 'a' }),
        pod(
          { volumeMounts: [{ name: 'config', mountPath: '/etc/web' }] },
          { volumes: [{ name: 'config', configMap: { name: 'web-config' } }] },
        ),
      ],
      host,
    );
    const dirs = { '/r/pods/web/volumes/config': false };
    expect(planOf(emptyDir, [running(emptyDir)], sandbox({}, dirs))).toEqual([]);
    expect(summary(planOf(config, [running(emptyDir)], sandbox({}, dirs)))).toEqual([
      'remove web/main: mounts changed; removed before volume config is written (it mounts it read-write: it was another kind of volume)',
      'write-volume web: volume config from ConfigMap web-config',
      'run web/main: mounts changed',
    ]);
    // A container that mounts it read-only is not in the way (its mount is the config volume's already).
    const readOnly = desiredState(
      [
        pod(
          { volumeMounts: [{ name: 'config', mountPath: '/etc/web', readOnly: true }] },
          { volumes: [{ name: 'config', emptyDir: {} }] },
        ),
      ],
      host,
    );
    expect(summary(planOf(config, [running(readOnly)], sandbox({}, dirs)))).toEqual([
      'write-volume web: volume config from ConfigMap web-config',
    ]);
  });

  it('a writer whose removal is not planned keeps running and its volume waits; one removed before a sandbox set-up stays first (review)', () => {
    const made = (kind: 'emptyDir' | 'configMap') =>
      desiredState(
        [
          configMap({ MODE: 'a' }),
          pod(
            { volumeMounts: [{ name: 'config', mountPath: '/etc/web' }] },
            {
              volumes: [
                {
                  name: 'config',
                  ...(kind === 'emptyDir' ? { emptyDir: {} } : { configMap: { name: 'web-config' } }),
                },
              ],
            },
          ),
        ],
        host,
      );
    const config = made('configMap');
    const old = running(made('emptyDir'));
    const thePod = config.pods[0] as DesiredState['pods'][0];
    const write = {
      kind: 'write-volume',
      pod: 'web',
      volume: 'config',
      reason: 'web: volume config from ConfigMap web-config',
    } as const;
    // Its new image not in the store: no remove and no run planned for it. It is not stopped.
    expect(removeWritersFirst(thePod, [old], [write])).toEqual([]);
    // Planned before the write already (a sandbox set up again): not moved after the set-up.
    const remove = {
      kind: 'remove',
      pod: 'web',
      id: old.id,
      reason: 'web/main: sandbox',
    } as unknown as Action;
    const setup = { kind: 'setup-pod', pod: 'web', reason: 'web: sandbox again' } as unknown as Action;
    expect(removeWritersFirst(thePod, [old], [remove, setup, write]).map((a) => a.kind)).toEqual([
      'remove',
      'setup-pod',
      'write-volume',
    ]);
  });
});

describe('a held volume write holds its readers', () => {
  it('a container to be made with a volume whose write is held waits too: it would mount what the old writer left there (review)', () => {
    const made = (kind: 'emptyDir' | 'configMap', sidecar: boolean) =>
      desiredState(
        [
          configMap({ MODE: 'a' }),
          pod(
            {},
            {
              containers: [
                { name: 'main', image: IMG, volumeMounts: [{ name: 'config', mountPath: '/etc/web' }] },
                ...(sidecar
                  ? [
                      {
                        name: 'side',
                        image: IMG,
                        volumeMounts: [
                          { name: 'config', mountPath: '/etc/side', readOnly: true, subPath: 'MODE' },
                        ],
                      },
                      { name: 'plain', image: IMG },
                    ]
                  : []),
              ],
              volumes: [
                {
                  name: 'config',
                  ...(kind === 'emptyDir' ? { emptyDir: {} } : { configMap: { name: 'web-config' } }),
                },
              ],
            },
          ),
        ],
        host,
      );
    const thePod = made('configMap', true).pods[0] as DesiredState['pods'][0];
    const old = running(made('emptyDir', false)); // main, mounting the emptyDir read-write
    const write = {
      kind: 'write-volume',
      pod: 'web',
      volume: 'config',
      reason: 'web: volume config',
    } as const;
    const run = (container: string) =>
      ({
        kind: 'run',
        pod: 'web',
        container,
        restarts: 0,
        backoffMs: 0,
        waitForExit: false,
        reason: `web/${container}: new container`,
      }) as const;
    // main's new image is not in the store: no remove of it is planned, so the write waits, and so
    // does side, which would bind MODE from whatever `..data` the old main left there; plain runs.
    expect(removeWritersFirst(thePod, [old], [write, run('side'), run('plain')])).toEqual([
      {
        kind: 'wait',
        pod: 'web',
        container: 'side',
        reason:
          'web/side: volume config is not written yet (a container that mounts it read-write still runs: it was another kind of volume)',
      },
      run('plain'),
    ]);
    // Once main's removal is planned, the write goes first and side runs after it.
    const remove = {
      kind: 'remove',
      pod: 'web',
      container: 'main',
      id: old.id,
      graceSeconds: 1,
      reason: 'web/main: mounts changed',
    } as const;
    expect(
      removeWritersFirst(thePod, [old], [write, run('side'), remove, run('main')]).map((a) => a.kind),
    ).toEqual(['remove', 'write-volume', 'run', 'run']);
  });
});

describe('desired pods remembered between passes', () => {
  it('the same documents give the same pod; a changed or new object it names rebuilds it', () => {
    const thePod = pod({
      envFrom: [{ configMapRef: { name: 'web-config' } }, { secretRef: { name: 'db' } }],
    });
    const cm = configMap({ MODE: 'a' });
    const first = desiredState([cm, thePod], host);
    const again = desiredState([cm, thePod], host);
    expect(again.pods[0]).toBe(first.pods[0]);
    expect(first.pods[0]?.waitingFor).toEqual(['Secret db']);
    const withSecret = desiredState([cm, secret(SECRET), thePod], host);
    expect(withSecret.pods[0]?.waitingFor).toBeUndefined();
    const edited = desiredState([configMap({ MODE: 'b' }), secret(SECRET), thePod], host);
    expect(envOf(edited)).toEqual(['MODE=b', `password=${SECRET}`]);
    expect(desiredState([cm, thePod], { ...host }).pods[0]).not.toBe(first.pods[0]); // another host
  });
});

describe('imagePullSecrets', () => {
  it("a dockerconfigjson Secret's config goes to its pod's pulls, never into the pod; others are skipped", () => {
    const config = JSON.stringify({ auths: { 'registry.lan': { auth: b64('u:hunter2') } } });
    const d = desiredState(
      [
        doc({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'pull' },
          type: 'kubernetes.io/dockerconfigjson',
          data: { '.dockerconfigjson': b64(config) },
        }),
        secret(SECRET), // Opaque: not a pull secret
        pod({}, { imagePullSecrets: [{ name: 'db' }, { name: 'pull' }, { name: 'absent' }] }),
      ],
      host,
    );
    expect(d.pullAuth).toEqual(new Map([['web', [config]]]));
    expect(JSON.stringify(d.pods)).not.toMatch(/hunter2|dTpodW50ZXIy/);
    expect(d.pods[0]?.waitingFor).toBeUndefined();
  });
});

describe('the kinds as the loader reads them', () => {
  it('ConfigMap, Secret, PersistentVolumeClaim and Pod in one file load; a Service is one warning', () => {
    const text = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-config}\ndata: {MODE: fast}\nbinaryData: {blob: AAEC}\nimmutable: true',
      'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: team}\ntype: Opaque\ndata: {password: aHVudGVyMg==}\nstringData: {user: admin}',
      'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}',
      'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: main, image: busybox}]',
    ].join('\n---\n');
    const result = parseFile(text, 'all.yaml');
    expect(result.diagnostics.map((d) => `${d.line}:${d.col}: ${d.code}: ${d.message}`)).toEqual([
      "21:7: WARN_SERVICE_IGNORED: Service web is ignored: berth runs one host, where ports are published by a container's hostPort",
    ]);
    expect(result.parsed.map((p) => p.value.kind)).toEqual([
      'ConfigMap',
      'Secret',
      'PersistentVolumeClaim',
      'Service',
      'Pod',
    ]);
  });

  it('modes written 0400 are octal, as Kubernetes reads YAML (1.1), not decimal 400 (0620)', () => {
    const text =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec:\n  containers: [{name: m, image: b}]\n' +
      '  volumes: [{name: s, secret: {secretName: x, defaultMode: 0400, items: [{key: k, path: p, mode: 0644}]}}]\n';
    const result = parseFile(text, 'f.yaml');
    expect(result.diagnostics).toEqual([]);
    expect((result.parsed[0]?.value as PodManifest | undefined)?.spec.volumes?.[0]?.secret).toEqual({
      secretName: 'x',
      defaultMode: 0o400,
      items: [{ key: 'k', path: 'p', mode: 0o644 }],
    });
  });

  it.each([
    [
      'a key in data and binaryData',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: a}\nbinaryData: {k: YQ==}',
      ['5:17: ERR_CONFIGMAP_INVALID: key k is in both data and binaryData'],
    ],
    [
      'a ConfigMap over 1 MiB (a pass reads every object, every time)',
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {a: "${'x'.repeat(1024 * 1024)}"}`,
      [
        '3:18: ERR_CONFIGMAP_INVALID: ConfigMap big holds 1048577 bytes; at most 1048576 (1 MiB), as in Kubernetes',
      ],
    ],
    [
      'two items of a projected volume at one path, or one inside another',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: main, image: busybox}]\n  volumes:\n    - name: all\n      projected:\n        sources:\n          - configMap: {name: c, items: [{key: a, path: conf}]}\n          - secret: {name: s, items: [{key: b, path: conf}, {key: c, path: conf/x}]}',
      [
        '11:54: ERR_MANIFEST_INVALID: path conf conflicts with conf in volume all',
        '11:76: ERR_MANIFEST_INVALID: path conf/x conflicts with conf in volume all',
      ],
    ],
    [
      // The kubelet writes the last (validation.go checks no configMap volume's items for it); a
      // projected volume's compares them as written, so ./conf beside conf passes (review: berth
      // refused both files).
      "one path twice in a configMap volume's items, and ./conf beside conf in a projected one: taken",
      'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: main, image: busybox}]\n  volumes:\n    - name: one\n      configMap: {name: c, items: [{key: a, path: conf}, {key: b, path: conf}]}\n    - name: all\n      projected:\n        sources:\n          - configMap: {name: c, items: [{key: a, path: ./conf}]}\n          - secret: {name: s, items: [{key: b, path: conf}]}',
      [],
    ],
    [
      'a Secret value that is not base64',
      'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: "not base64!"}',
      [
        '4:11: ERR_MANIFEST_SCHEMA: data.k must be base64 (standard alphabet, padded), as Kubernetes stores binary values',
      ],
    ],
    [
      'a key that would escape its volume',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {"..": a, "..data": b}',
      [
        '4:7: ERR_MANIFEST_SCHEMA: data has a key that is not letters, digits, "-", "_" and "." (not "." or "..", not starting with "..")',
      ],
    ],
    [
      'a dockerconfigjson Secret without docker config JSON (its value never quoted)',
      `apiVersion: v1\nkind: Secret\nmetadata: {name: pull}\ntype: kubernetes.io/dockerconfigjson\ndata: {.dockerconfigjson: ${Buffer.from('{hunter2').toString('base64')}}`,
      [
        '5:27: ERR_SECRET_INVALID: Secret pull of type kubernetes.io/dockerconfigjson: .dockerconfigjson is not JSON',
      ],
    ],
    [
      'typed Secrets without the keys their type requires (a basic-auth one with either key is whole)',
      'apiVersion: v1\nkind: Secret\nmetadata: {name: t}\ntype: kubernetes.io/tls\nstringData: {tls.crt: hunter2}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\ntype: kubernetes.io/basic-auth\ndata: {x: YQ==}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: k}\ntype: kubernetes.io/ssh-auth\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: ok}\ntype: kubernetes.io/basic-auth\nstringData: {password: hunter2}',
      [
        '4:7: ERR_SECRET_INVALID: Secret t of type kubernetes.io/tls has no tls.key key, which a cluster requires of that type',
        '10:7: ERR_SECRET_INVALID: Secret b of type kubernetes.io/basic-auth has no username or password key, which a cluster requires of that type',
        '16:7: ERR_SECRET_INVALID: Secret k of type kubernetes.io/ssh-auth has no ssh-privatekey key, which a cluster requires of that type',
      ],
    ],
    [
      // ValidateSecret requires the annotation of that type; an empty type is Opaque (SetDefaults_Secret).
      'a service-account-token Secret without the annotation naming its service account; a type ""',
      'apiVersion: v1\nkind: Secret\nmetadata: {name: t}\ntype: kubernetes.io/service-account-token\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: ok, annotations: {kubernetes.io/service-account.name: robot}}\ntype: kubernetes.io/service-account-token\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: e}\ntype: ""\nstringData: {password: hunter2}',
      [
        '4:7: ERR_SECRET_INVALID: Secret t of type kubernetes.io/service-account-token has no kubernetes.io/service-account.name annotation naming its service account, which a cluster requires of that type',
      ],
    ],
    [
      // ValidatePersistentVolumeClaimSpec: an access mode, a storage request above 0 (berth reads only the name).
      'claims a cluster refuses: no access mode, ReadWriteOncePod with another, no storage, storage 0, a mode or class it does not know',
      'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: a}\nspec: {resources: {requests: {storage: 1Gi}}}\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: b}\nspec: {accessModes: [ReadWriteOncePod, ReadWriteOnce, Once], volumeMode: File, storageClassName: Fast_SSD, resources: {requests: {storage: "0"}}}\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: {accessModes: [ReadOnlyMany]}',
      [
        '4:7: ERR_MANIFEST_INVALID: spec needs at least one access mode (a cluster rejects it too)',
        '9:21: ERR_MANIFEST_INVALID: spec.accessModes may not use ReadWriteOncePod with another access mode (a cluster rejects it too)',
        '9:55: ERR_MANIFEST_INVALID: spec.accessModes.2 must be one of ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod (a cluster rejects it too)',
        '9:74: ERR_MANIFEST_INVALID: spec.volumeMode must be Filesystem or Block (a cluster rejects it too)',
        '9:98: ERR_MANIFEST_INVALID: spec.storageClassName must be "" or a DNS subdomain (a cluster rejects it too)',
        '9:140: ERR_MANIFEST_INVALID: spec.resources.requests.storage must be greater than 0 (a cluster rejects it too)',
        '14:7: ERR_MANIFEST_INVALID: spec needs resources.requests.storage (a cluster rejects it too)',
      ],
    ],
    [
      // ReadWriteOncePod is refused only beside another mode a cluster knows; a class name is 253 characters at most.
      'claims: ReadWriteOncePod twice is taken, a 254-character storageClassName refused',
      `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\nspec: {accessModes: [ReadWriteOncePod, ReadWriteOncePod], storageClassName: ${'a'.repeat(254)}, resources: {requests: {storage: 1Gi}}}`,
      [
        '4:77: ERR_MANIFEST_INVALID: spec.storageClassName must be "" or a DNS subdomain (a cluster rejects it too)',
      ],
    ],
    [
      "a field only the other kind has (a Secret's binaryData, a ConfigMap's stringData or type)",
      'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nbinaryData: {k: YQ==}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nstringData: {k: a}\ntype: Opaque',
      [
        '4:1: ERR_MANIFEST_SCHEMA: unknown field binaryData',
        '9:1: ERR_MANIFEST_SCHEMA: unknown field stringData',
        '10:1: ERR_MANIFEST_SCHEMA: unknown field type',
      ],
    ],
    [
      'an items path that climbs out of the volume',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: main, image: busybox}]\n  volumes:\n    - name: c\n      configMap: {name: c, items: [{key: k, path: ../../etc/passwd}]}',
      [
        '8:51: ERR_MANIFEST_SCHEMA: spec.volumes.0.configMap.items.0.path must be a relative path inside the volume: no leading /, no "..", "." or empty component, not starting with ".."',
      ],
    ],
  ])('%s', (_name, text, expected) => {
    const result = parseFile(text, 'f.yaml');
    expect(result.diagnostics.map((d) => `${d.line}:${d.col}: ${d.code}: ${d.message}`)).toEqual(expected);
    expect(JSON.stringify(result.diagnostics)).not.toMatch(/hunter2/);
  });

  it('40k items of a volume: checked for paths at one place in linear time, each clash still named', () => {
    // Each path was compared with every earlier one: 30 s here, on the daemon's only thread. The
    // items of a projected volume, where a path written twice is refused too.
    const n = 40_000;
    const paths = [...Array.from({ length: n }, (_, i) => `d${i}`), 'd7/x', 'd39999', 'd1'];
    const text = `apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: main, image: busybox}]\n  volumes:\n    - name: many\n      projected:\n        sources:\n        - configMap:\n            name: c\n            items:\n${paths.map((path) => `            - {key: k, path: ${path}}\n`).join('')}`;
    const { diagnostics } = parseFile(text, 'f.yaml');
    expect(diagnostics.map((d) => `${d.line}:${d.col}: ${d.code}: ${d.message}`)).toEqual([
      `${13 + n}:30: ERR_MANIFEST_INVALID: path d7/x conflicts with d7 in volume many`,
      `${14 + n}:30: ERR_MANIFEST_INVALID: path d39999 conflicts with d39999 in volume many`,
      `${15 + n}:30: ERR_MANIFEST_INVALID: path d1 conflicts with d1 in volume many`,
    ]);
  }, 10_000);
});
