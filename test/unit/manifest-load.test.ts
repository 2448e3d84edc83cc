// A corpus of broken manifests with their exact diagnostics, and the folder rules.
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RACY_MS } from '../../src/lib/file-cache.js';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import { findCycles } from '../../src/manifest/cycles.js';
import type { PodManifest } from '../../src/manifest/kinds.js';
import { lastGoodStore } from '../../src/manifest/last-good.js';
import { DEPENDS_ON, dependsOn, isManifestFile, loadManifests } from '../../src/manifest/load.js';
import { desiredState } from '../../src/reconcile/desired.js';
import { frozenPods } from '../../src/reconcile/frozen.js';
import { type ObservedState, plan } from '../../src/reconcile/plan.js';
import { manifestFolders } from '../helpers/manifest-folders.js';
import { observedFrom, TEST_HOST } from '../helpers/observed.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');

const folder = manifestFolders('manifests');
const pod = (name: string, extra = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n    - name: main\n      image: busybox${extra}\n`;

describe('manifest files', () => {
  it.each([
    ['web.yaml', true],
    ['web.yml', true],
    ['web.json', true],
    ['.hidden.yaml', false],
    ['web.yaml~', false],
    ['web.yaml.swp', false],
    ['web.yaml.bak', false],
    ['notes.txt', false],
  ])('%s counts: %s', (name, want) => expect(isManifestFile(name)).toBe(want));

  it('loads several documents per file, JSON too, and reports a clean folder as such', async () => {
    const d = await folder({
      'a.yaml': `${pod('web')}---\n${pod('worker')}`,
      'b.json': JSON.stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'Image',
        metadata: { name: 'base' },
        spec: { ref: 'busybox:1' },
      }),
      '.ignored.yaml': 'not: [valid',
    });
    const r = await loadManifests(d);
    expect(r.diagnostics).toEqual([]);
    expect(r.docs.map((x) => `${x.doc.kind}/${x.doc.metadata.name}@${x.line}`)).toEqual([
      'Pod/web@1',
      'Pod/worker@10',
      'Image/base@1',
    ]);
  });

  it('a file of another name that defines an object is a warning naming it, never skipped silently (kops, GCE: *.manifest)', async () => {
    const d = await folder({
      'web.yaml': pod('web'),
      'kube-apiserver.manifest': pod('kube-apiserver').replace(
        'name: kube',
        'namespace: kube-system\n  name: kube',
      ),
      etcd: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'etcd' }, spec: {} }),
      'README.md': '# static pods\n\napiVersion: v1 is what they say\n',
      'notes.txt': 'foo: bar\n',
      'broken.conf': 'kind: [Pod\n',
      '.hidden': pod('hidden'),
      'old.manifest~': pod('old'),
      'old.manifest.bak': pod('older'),
    });
    await mkdir(join(d, 'sub.manifest'));
    const r = await loadManifests(d);
    expect(r.diagnostics.map((x) => formatDiagnostic(x).replace(`${d}/`, ''))).toEqual([
      'etcd:1:1: WARN_FILE_NOT_READ: it defines Pod etcd, but berth reads only *.yaml, *.yml and *.json files (a kubelet reads every file of its folder): rename it to etcd.yaml to run it',
      'kube-apiserver.manifest:1:1: WARN_FILE_NOT_READ: it defines Pod kube-system/kube-apiserver, but berth reads only *.yaml, *.yml and *.json files (a kubelet reads every file of its folder): rename it to kube-apiserver.yaml to run it',
    ]);
    expect(r.docs.map((x) => x.doc.metadata.name)).toEqual(['web']);
    expect(r.files).toEqual([join(d, 'web.yaml')]);
  });

  it('a file it does not read is judged again when it changes, whatever was remembered of it (a daemon loads each pass)', async () => {
    const d = await folder({ 'web.yaml': pod('web'), 'extra.manifest': pod('extra') });
    await new Promise((r) => setTimeout(r, RACY_MS + 100)); // old enough for its stat to vouch for it
    const codes = async () =>
      (await loadManifests(d)).diagnostics.map((x) => `${basename(x.file)}:${x.code}`);
    const warned = ['extra.manifest:WARN_FILE_NOT_READ'];
    expect(await codes()).toEqual(warned);
    expect(await codes()).toEqual(warned); // remembered: the same answer
    await writeFile(join(d, 'extra.manifest'), 'just notes, no object\n');
    await new Promise((r) => setTimeout(r, RACY_MS + 100));
    expect(await codes()).toEqual([]);
    await writeFile(join(d, 'extra.manifest'), pod('extra'));
    expect(await codes()).toEqual(warned); // changed a moment ago: read, not trusted to the stat
  });

  it('a missing folder is an error, not an empty desired state', async () => {
    const gone = await folder({});
    await expect(loadManifests(join(gone, 'nope'))).rejects.toMatchObject({
      code: 'ERR_MANIFESTS_UNREADABLE',
      kind: 'invalid',
      message: `manifests folder ${join(gone, 'nope')}: ENOENT`,
      hint: 'a folder that cannot be read never means "remove everything"',
    });
  });
});

describe('broken manifests, with their exact diagnostics', () => {
  it.each([
    ['syntax', 'apiVersion: v1\nkind: [Pod\n', ['ERR_YAML_SYNTAX']],
    [
      'unknown kind',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n',
      [
        '2:7: ERR_MANIFEST_KIND: apiVersion apps/v1, kind Deployment is not a kind berth runs (v1 Pod, ConfigMap, Secret, PersistentVolumeClaim, Service, and a v1 List or PodList of them; berth.dev/v1alpha1 Image)',
      ],
    ],
    [
      'refused k8s field',
      `${pod('web')}  runtimeClassName: gvisor\n`,
      [
        '9:3: ERR_MANIFEST_UNSUPPORTED: field spec.runtimeClassName is not supported by berth: berth has one runtime (runc)',
      ],
    ],
    [
      'a hostAliases name that would add a line to /etc/hosts',
      `${pod('web')}  hostAliases: [{ip: 10.0.0.1, hostnames: ["db\\n6.6.6.6 bank"]}]\n`,
      [
        "9:44: ERR_MANIFEST_SCHEMA: spec.hostAliases.0.hostnames.0 must be a host name as a cluster takes it: a DNS subdomain, lowercase letters, digits and '-' in labels joined by '.', at most 253 characters (a cluster rejects it too)",
      ],
    ],
    [
      'a dnsConfig option that would add a line to resolv.conf',
      `${pod('web')}  dnsConfig: {options: [{name: "ndots:1\\nnameserver 6.6.6.6"}]}\n`,
      [
        "9:32: ERR_MANIFEST_SCHEMA: spec.dnsConfig.options.0.name must be a resolver option name: letters, digits, '_' and '-', at most 64 characters",
      ],
    ],
    [
      'a hostIP that is not an address',
      pod('web', '\n      ports:\n        - {containerPort: 80, hostPort: 8080, hostIP: "0.0.0.0; rm"}'),
      [
        '10:55: ERR_MANIFEST_SCHEMA: spec.containers.0.ports.0.hostIP must be an IPv4 address (berth publishes ports on IPv4 host addresses)',
      ],
    ],
    [
      'a probe with no handler',
      pod('web', '\n      livenessProbe: {periodSeconds: 5}'),
      [
        '9:22: ERR_MANIFEST_SCHEMA: spec.containers.0.livenessProbe must have one of exec, httpGet, tcpSocket, grpc (none is given)',
      ],
    ],
    [
      'a probe with two handlers',
      pod('web', '\n      readinessProbe: {tcpSocket: {port: 80}, exec: {command: ["true"]}}'),
      [
        '9:23: ERR_MANIFEST_SCHEMA: spec.containers.0.readinessProbe must have exactly one of its possible sources, not several',
      ],
    ],
    [
      'a probe header that would add a header line',
      pod(
        'web',
        '\n      readinessProbe: {httpGet: {port: 80, httpHeaders: [{name: X, value: "a\\r\\nHost: evil"}]}}',
      ),
      [
        '9:75: ERR_MANIFEST_SCHEMA: spec.containers.0.readinessProbe.httpGet.httpHeaders.0.value must be one line (no CR, LF or NUL: it would add a header line)',
      ],
    ],
    [
      'a liveness probe with successThreshold 2',
      pod('web', '\n      livenessProbe: {tcpSocket: {port: http}, successThreshold: 2}'),
      ['9:66: ERR_MANIFEST_SCHEMA: spec.containers.0.livenessProbe.successThreshold must be one of 0, 1'],
    ],
    [
      'a probe on an init container that is no sidecar',
      `${pod('web')}  initContainers:\n    - name: setup\n      image: busybox\n      startupProbe: {exec: {command: ["true"]}}\n`,
      [
        '12:21: ERR_MANIFEST_SCHEMA: spec.initContainers.0.startupProbe may be set on an init container only with restartPolicy: Always (a sidecar), as in Kubernetes',
      ],
    ],
    [
      'an env source naming no source',
      pod('web', '\n      env:\n        - name: A\n          valueFrom: {}'),
      [
        '11:22: ERR_MANIFEST_INVALID: env A: valueFrom must name exactly one of configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef',
      ],
    ],
    [
      'a host port out of range',
      pod('web', '\n      ports:\n        - containerPort: 80\n          hostPort: 70000'),
      ['11:21: ERR_MANIFEST_SCHEMA: spec.containers.0.ports.0.hostPort must be <= 65535'],
    ],
    [
      'made-up field',
      `${pod('web')}  colour: red\n`,
      ['9:3: ERR_MANIFEST_SCHEMA: unknown field spec.colour'],
    ],
    ['bad name', pod('Web_1'), ['4:9: ERR_MANIFEST_SCHEMA: metadata.name must be a DNS subdomain']],
    [
      'bad restart policy',
      `${pod('web')}  restartPolicy: Sometimes\n`,
      ['9:18: ERR_MANIFEST_SCHEMA: spec.restartPolicy must be one of Always, OnFailure, Never'],
    ],
    [
      'no containers',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: []\n',
      ['5:15: ERR_MANIFEST_SCHEMA: spec.containers must NOT have fewer than 1 items'],
    ],
    [
      'container name twice',
      pod('web', '\n    - name: main\n      image: busybox'),
      ['9:13: ERR_MANIFEST_INVALID: container name "main" is used twice in pod web'],
    ],
    [
      'undeclared volume',
      pod('web', '\n      volumeMounts:\n        - {name: data, mountPath: /data}'),
      ['10:18: ERR_MANIFEST_INVALID: volume "data" is not declared in spec.volumes'],
    ],
    [
      'depends on nothing',
      pod('web').replace('  name: web\n', '  name: web\n  annotations:\n    berth.dev/depends-on: db\n'),
      ['6:27: ERR_MANIFEST_INVALID: pod web depends on "db", which no manifest defines'],
    ],
  ])('%s', async (_what, text, want) => {
    const d = await folder({ 'm.yaml': text });
    const r = await loadManifests(d);
    const got = r.diagnostics.map(formatDiagnostic);
    expect(got).toHaveLength(want.length);
    for (const [i, w] of want.entries()) expect(got[i]).toContain(w);
    expect(got.every((g) => g.startsWith(`${join(d, 'm.yaml')}:`))).toBe(true);
    expect(r.brokenFiles).toEqual([join(d, 'm.yaml')]);
    expect(r.docs).toEqual([]);
  });

  it('every problem of every file at once; good files still load', async () => {
    const d = await folder({
      'a.yaml': 'kind: [',
      'b.yaml': `${pod('b')}  colour: red\n`,
      'c.yaml': pod('c'),
    });
    const r = await loadManifests(d);
    expect(r.diagnostics.map((x) => x.file)).toEqual([join(d, 'a.yaml'), join(d, 'b.yaml')]);
    expect(r.docs.map((x) => x.doc.metadata.name)).toEqual(['c']);
  });

  it('the same kind and name twice: an error at both, neither used', async () => {
    const d = await folder({ 'a.yaml': pod('web'), 'b.yaml': `${pod('web')}---\n${pod('other')}` });
    const r = await loadManifests(d);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `${join(d, 'a.yaml')}:4:9: ERR_MANIFEST_DUPLICATE: Pod/web is also defined at ${join(d, 'b.yaml')}:4`,
      `${join(d, 'b.yaml')}:4:9: ERR_MANIFEST_DUPLICATE: Pod/web is also defined at ${join(d, 'a.yaml')}:4`,
    ]);
    expect(r.duplicates).toEqual(['Pod/web']);
    expect(r.docs.map((x) => x.doc.metadata.name)).toEqual(['other']);
  });

  it('pods that depend on each other are an error at each, saying the cycle', async () => {
    const dep = (name: string, on: string) =>
      pod(name).replace(
        `name: ${name}\n`,
        `name: ${name}\n  annotations:\n    berth.dev/depends-on: ${on}\n`,
      );
    const d = await folder({
      'a.yaml': dep('a', 'b'),
      'b.yaml': dep('b', 'c'),
      'c.yaml': dep('c', 'a'),
      'd.yaml': dep('d', 'a'),
    });
    const r = await loadManifests(d);
    const why =
      'ERR_MANIFEST_INVALID: pods a → b → c → a depend on each other: none of them would ever start';
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `${join(d, 'a.yaml')}:6:27: ${why}`,
      `${join(d, 'b.yaml')}:6:27: ${why}`,
      `${join(d, 'c.yaml')}:6:27: ${why}`,
    ]);
    expect(r.docs.map((x) => x.doc.metadata.name)).toEqual(['d']); // it waits for a, which says why
    expect(
      findCycles(
        new Map([
          ['x', ['y']],
          ['y', ['x']],
          ['z', ['z']],
        ]),
      ),
    ).toEqual([['x', 'y', 'x']]);
  });

  it('follows a folder swapped in through a symlink (git-sync)', async () => {
    const real = await folder({ 'a.yaml': pod('web') });
    const link = join(await folder({}), 'current');
    await symlink(real, link);
    expect((await loadManifests(link)).docs).toHaveLength(1);
  });

  it('a file that breaks keeps its last good content applied; a deleted file is forgotten', async () => {
    const store = lastGoodStore(join(await folder({}), 'last-good'));
    const d = await folder({ 'a.yaml': pod('web', ':1'), 'b.yaml': pod('db') });
    const keep = { lastGood: store, keepLastGood: true };
    expect((await loadManifests(d, keep)).fromLastGood).toEqual([]);
    await writeFile(join(d, 'a.yaml'), `${pod('web', ':2')}  colour: red\n`);
    const broken = await loadManifests(d, keep);
    expect(broken.diagnostics.map((x) => x.code)).toEqual(['ERR_MANIFEST_SCHEMA']);
    expect([broken.brokenFiles, broken.fromLastGood]).toEqual([[], [join(d, 'a.yaml')]]);
    const web = broken.docs.find((x) => x.doc.metadata.name === 'web')?.doc as PodManifest;
    expect(web.spec.containers[0]?.image).toBe('busybox:1'); // the last good, not the broken edit
    expect(broken.docs.find((x) => x.doc.metadata.name === 'web')?.file).toBe(join(d, 'a.yaml'));
    // The broken load did not overwrite what was last good.
    expect(Object.keys(await store.read(d))).toEqual(['a.yaml', 'b.yaml']);
    // Without a last good content (never loaded cleanly, or deleted meanwhile), it is kept as it runs.
    await rm(join(d, 'a.yaml'));
    await loadManifests(d, keep);
    expect(Object.keys(await store.read(d))).toEqual(['b.yaml']);
    await writeFile(join(d, 'a.yaml'), `${pod('web', ':2')}  colour: red\n`);
    const again = await loadManifests(d, keep);
    expect([again.brokenFiles, again.fromLastGood]).toEqual([[join(d, 'a.yaml')], []]);
    // `plan` reads the last good content but never records one.
    await writeFile(join(d, 'a.yaml'), pod('web', ':3'));
    await loadManifests(d, { lastGood: store });
    expect(Object.keys(await store.read(d))).toEqual(['b.yaml']);
  });
});

describe('a dependency error falls back like any error', () => {
  const dep = (name: string, on: string) =>
    pod(name).replace(`name: ${name}\n`, `name: ${name}\n  annotations:\n    berth.dev/depends-on: ${on}\n`);
  const planOf = (loaded: Awaited<ReturnType<typeof loadManifests>>, observed: ObservedState) => {
    const desired = desiredState(loaded.docs, TEST_HOST);
    const frozen = frozenPods(loaded, observed, desired);
    const folder = dirname(loaded.files[0] ?? '/m/x');
    return plan({ folder, desired, observed, frozen, now: NOW }).map((a) => `${a.kind} ${a.reason}`);
  };

  it('depends-on a pod no manifest defines: last good content applied and kept, its crash restarted', async () => {
    const store = lastGoodStore(join(await folder({}), 'last-good-deps'));
    const keep = { lastGood: store, keepLastGood: true };
    const d = await folder({ 'app.yaml': dep('app', 'db'), 'db.yaml': pod('db'), 'web.yaml': pod('web') });
    const clean = await loadManifests(d, keep);
    expect(clean.diagnostics).toEqual([]);
    await writeFile(join(d, 'app.yaml'), dep('app', 'dbb'));
    const r = await loadManifests(d, keep);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `${join(d, 'app.yaml')}:6:27: ERR_MANIFEST_INVALID: pod app depends on "dbb", which no manifest defines`,
    ]);
    expect([r.brokenFiles, r.fromLastGood]).toEqual([[], [join(d, 'app.yaml')]]);
    expect(
      r.docs.map((x) => `${x.doc.metadata.name}:${x.doc.metadata.annotations?.[DEPENDS_ON] ?? ''}`),
    ).toEqual(['app:db', 'db:', 'web:']);
    expect(Object.entries(await store.read(d))).toEqual([
      ['app.yaml', dep('app', 'db')],
      ['db.yaml', pod('db')],
      ['web.yaml', pod('web')],
    ]);
    // app crashed: it is restarted as its last good content says (db runs), not merely kept.
    const observed = observedFrom(clean.docs, {
      'app/main': { state: 'exited', exitCode: 1, finishedAt: '2026-11-30T11:30:00Z' },
    });
    expect(planOf(r, observed)).toEqual([
      'run app/main: exited 1, restart policy Always, restart 1 after 10 s',
    ]);
  });

  it('a cycle made by an edit: each file on it falls back; the last good set has none', async () => {
    const store = lastGoodStore(join(await folder({}), 'last-good-cycle'));
    const keep = { lastGood: store, keepLastGood: true };
    const d = await folder({ 'a.yaml': dep('a', 'b'), 'b.yaml': pod('b') });
    await loadManifests(d, keep);
    await writeFile(join(d, 'b.yaml'), dep('b', 'a'));
    const r = await loadManifests(d, keep);
    const why = 'ERR_MANIFEST_INVALID: pods a → b → a depend on each other: none of them would ever start';
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `${join(d, 'a.yaml')}:6:27: ${why}`,
      `${join(d, 'b.yaml')}:6:27: ${why}`,
    ]);
    expect([r.brokenFiles, r.fromLastGood]).toEqual([[], [join(d, 'a.yaml'), join(d, 'b.yaml')]]);
    expect(r.docs.map((x) => dependsOn(x.doc.metadata.annotations))).toEqual([['b'], []]);
    expect((await store.read(d))['b.yaml']).toBe(pod('b'));
  });

  it('the last good content at fault too (its dependency deleted): kept as it runs, and the load ends', async () => {
    const store = lastGoodStore(join(await folder({}), 'last-good-gone'));
    const keep = { lastGood: store, keepLastGood: true };
    const d = await folder({ 'app.yaml': dep('app', 'db'), 'db.yaml': pod('db') });
    await loadManifests(d, keep);
    await rm(join(d, 'db.yaml'));
    const r = await loadManifests(d, keep);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `${join(d, 'app.yaml')}:6:27: ERR_MANIFEST_INVALID: pod app depends on "db", which no manifest defines`,
      `${join(d, 'app.yaml')}:1:1: ERR_MANIFEST_INVALID: its last good content cannot be used either: pod app depends on "db", which no manifest defines`,
    ]);
    expect([r.brokenFiles, r.fromLastGood, r.docs]).toEqual([[join(d, 'app.yaml')], [], []]);
    expect(Object.keys(await store.read(d))).toEqual(['app.yaml']);
  });
});

describe('a document that attacks the parser', () => {
  it('an alias bomb (billion laughs) is a diagnostic of its file; the other files load', async () => {
    const lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
    for (let i = 1; i < 10; i++) {
      const [name, prev] = [String.fromCharCode(97 + i), String.fromCharCode(96 + i)];
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const d = await folder({ 'bomb.yaml': `${lines.join('\n')}\n`, 'ok.yaml': pod('ok') });
    const r = await loadManifests(d);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `${join(d, 'bomb.yaml')}:1:1: ERR_MANIFEST_INVALID: Excessive alias count indicates a resource exhaustion attack`,
    ]);
    expect([r.brokenFiles, r.docs.map((x) => x.doc.metadata.name)]).toEqual([[join(d, 'bomb.yaml')], ['ok']]);
  });
});
