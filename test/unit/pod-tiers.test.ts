// The three tiers of Pod fields (src/manifest/tiers.ts): the table covers every field of the official
// strict Kubernetes Pod schema; warned fields are one WARN_ line each and the file is used
// (`validate` exits 0); refused ones are one error each; a volume with no source is an emptyDir; the
// slips podman tolerates are accepted with a warning that says what a cluster rejects.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import type { PodManifest } from '../../src/manifest/kinds.js';
import { loadManifests } from '../../src/manifest/load.js';
import { parseFile } from '../../src/manifest/parse.js';
import { POD_FIELD_TIERS } from '../../src/manifest/tiers.js';
import { runBerth } from '../helpers/cli.js';

const K8S = JSON.parse(
  readFileSync(new URL('../fixtures/pods-corpus/k8s-pod-v1.schema.json', import.meta.url), 'utf8'),
) as { properties: Record<string, { properties?: Record<string, unknown> }> };

type Node = { properties?: Record<string, Node>; items?: Node };
const fieldsOf = (n: Node | undefined): string[] => Object.keys(n?.properties ?? {});

/** The table's keys the official schema defines, at the levels the table decides. */
function officialKeys(): string[] {
  const p = K8S.properties as Record<string, Node>;
  const spec = p.spec as Node;
  const sp = spec.properties as Record<string, Node>;
  const c = (sp.containers as Node).items as Node;
  const cp = c.properties as Record<string, Node>;
  const v = (sp.volumes as Node).items as Node;
  return [
    ...fieldsOf(K8S as Node),
    ...fieldsOf(p.metadata).map((f) => `metadata.${f}`),
    ...fieldsOf(spec).map((f) => `spec.${f}`),
    ...fieldsOf(sp.securityContext).map((f) => `spec.securityContext.${f}`),
    ...fieldsOf(c).map((f) => `container.${f}`),
    ...fieldsOf(cp.securityContext).map((f) => `container.securityContext.${f}`),
    ...fieldsOf(v).map((f) => `volume.${f}`),
  ].filter((k) => k !== 'metadata' && k !== 'spec');
}

/**
 * Fields Kubernetes added after the vendored schema (v1.32.2), with the release that added them: the
 * table decides them too (a file written for a newer cluster gets its tier, never "unknown field").
 */
const NEWER_THAN_SCHEMA: Record<string, string> = {
  'container.lifecycle.stopSignal': '1.33 (ContainerStopSignals)',
  'spec.hostnameOverride': '1.34 (HostnameOverride)',
  'container.env.*.valueFrom.fileKeyRef': '1.34 (EnvFiles)',
  'container.restartPolicyRules': '1.34 (ContainerRestartRules)',
  'container.securityContext.cgroupOptions': '1.36 (KEP-5474, writable cgroups)',
  'volume.projected.sources.*.podCertificate': '1.34 (PodCertificateRequest)',
  'volume.emptyDir.mode': '1.37 (EmptyDirVolumeMode)',
  'container.volumeMounts.*.bindMountOptions': '1.37 (VolumeBindMountOptions)',
  'volume.configMap.defaultUser': '1.37 (AtomicWriteVolumeUserFields)',
  'volume.configMap.items.*.user': '1.37 (AtomicWriteVolumeUserFields)',
  'volume.secret.defaultUser': '1.37 (AtomicWriteVolumeUserFields)',
  'volume.secret.items.*.user': '1.37 (AtomicWriteVolumeUserFields)',
  'volume.projected.defaultUser': '1.37 (AtomicWriteVolumeUserFields)',
  'volume.projected.sources.*.configMap.items.*.user': '1.37 (AtomicWriteVolumeUserFields)',
  'volume.projected.sources.*.secret.items.*.user': '1.37 (AtomicWriteVolumeUserFields)',
  'volume.projected.sources.*.downwardAPI.items.*.user': '1.37 (AtomicWriteVolumeUserFields)',
  'volume.downwardAPI.items.*.user': '1.37 (AtomicWriteVolumeUserFields)',
  'volume.downwardAPI.defaultUser': '1.37 (AtomicWriteVolumeUserFields)',
  'spec.workloadRef': '1.35 (GenericWorkload; replaced by schedulingGroup in 1.36)',
  'spec.schedulingGroup': '1.36 (GenericWorkload)',
  'spec.evictionResponders': '1.37 (EvictionRequestAPI)',
  'container.livenessProbe.httpGet.protocol': '1.37 (H2CContainerProbe)',
  'container.readinessProbe.httpGet.protocol': '1.37 (H2CContainerProbe)',
  'container.startupProbe.httpGet.protocol': '1.37 (H2CContainerProbe)',
  'container.lifecycle.postStart.httpGet.protocol': '1.37 (H2CContainerProbe)',
  'container.lifecycle.preStop.httpGet.protocol': '1.37 (H2CContainerProbe)',
  'container.livenessProbe.grpc.mode': '1.37 (GRPCContainerProbeTLS)',
  'container.readinessProbe.grpc.mode': '1.37 (GRPCContainerProbeTLS)',
  'container.startupProbe.grpc.mode': '1.37 (GRPCContainerProbeTLS)',
};

/** A node of a JSON schema as the walk below reads it (`false`: a field the schema refuses in words). */
type SchemaNode = {
  properties?: Record<string, SchemaNode | false>;
  items?: SchemaNode;
  additionalProperties?: unknown;
  allOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  then?: SchemaNode;
  else?: SchemaNode;
};

/** A node's fields, its branches' (allOf, if/then…) included; a field of its own wins over a branch's. */
function fieldsWithBranches(n: SchemaNode | undefined): Record<string, SchemaNode | false> {
  if (!n) return {};
  const out: Record<string, SchemaNode | false> = { ...(n.properties ?? {}) };
  for (const b of [...(n.allOf ?? []), ...(n.anyOf ?? []), ...(n.oneOf ?? []), n.then, n.else])
    for (const [k, v] of Object.entries(fieldsWithBranches(b))) if (!(k in out)) out[k] = v;
  return out;
}

/** The table's key of a concrete path (`spec.containers.*.x` → `container.x`). */
const tableKey = (path: string[]) =>
  path
    .join('.')
    .replace(/^spec\.(containers|initContainers)\.\*\./, 'container.')
    .replace(/^spec\.volumes\.\*\./, 'volume.');

/**
 * Paths of the official schema that neither the Pod schema describes nor a tier decides (a warned or
 * refused field decides all below it; a field the Pod schema refuses in words, `false`, is decided).
 */
function undecidedFields(official: SchemaNode, ours: SchemaNode | undefined, path: string[] = []): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(official.properties ?? {})) {
    if (v === false) continue;
    const here = [...path, k];
    const tier = POD_FIELD_TIERS[tableKey(here)]?.tier;
    if (tier === 'warned' || tier === 'refused') continue;
    const mine = fieldsWithBranches(ours)[k];
    if (mine === false) continue;
    if (mine === undefined) {
      const open = typeof ours?.additionalProperties === 'object';
      if (!open && !tier && !(tableKey(here) in NEWER_THAN_SCHEMA)) out.push(here.join('.'));
      continue;
    }
    out.push(
      ...(v.items ? undecidedFields(v.items, mine.items, [...here, '*']) : undecidedFields(v, mine, here)),
    );
  }
  return out;
}

describe('the tier table', () => {
  it('decides every field of the official schema at every depth, never "unknown field" (clusterTrustBundle was)', () => {
    const ours = JSON.parse(
      readFileSync(new URL('../../schemas/pod.schema.json', import.meta.url), 'utf8'),
    ) as SchemaNode;
    expect(undecidedFields(K8S as SchemaNode, ours)).toEqual([]);
  });

  it('names only fields newer than the vendored schema that it lacks', () => {
    const table = Object.keys(POD_FIELD_TIERS);
    expect(Object.keys(NEWER_THAN_SCHEMA).filter((k) => !table.includes(k))).toEqual([]);
  });

  it('gives every field of the official Pod schema exactly one tier, and names no field it lacks', () => {
    const table = Object.keys(POD_FIELD_TIERS);
    const missing = officialKeys().filter((k) => !table.includes(k));
    expect(missing).toEqual([]);
    // Nested keys (container.ports.*.hostPort) are checked against the schema too.
    const resolve = (key: string): boolean => {
      const [head, ...rest] = key.split('.');
      const p = K8S.properties as Record<string, Node>;
      const sp = (p.spec as Node).properties as Record<string, Node>;
      let node: Node | undefined =
        head === 'container'
          ? (sp.containers as Node).items
          : head === 'volume'
            ? (sp.volumes as Node).items
            : ({ properties: p } as Node);
      for (const seg of head === 'container' || head === 'volume' ? rest : key.split('.')) {
        if (seg === '*') node = node?.items;
        else node = node?.properties?.[seg];
        if (!node) return false;
      }
      return true;
    };
    expect(table.filter((k) => !resolve(k) && !(k in NEWER_THAN_SCHEMA))).toEqual([]);
    // When the vendored schema is updated, a field it now has leaves the list.
    expect(Object.keys(NEWER_THAN_SCHEMA).filter(resolve)).toEqual([]);
  });
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-tiers-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
let n = 0;
async function folder(text: string): Promise<string> {
  const d = join(dir, `f${++n}`);
  await mkdir(d);
  await writeFile(join(d, 'pod.yaml'), text);
  return d;
}

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: web
  creationTimestamp: "2026-11-30T12:00:00Z"
spec:
  nodeSelector: {disk: ssd}
  affinity:
    nodeAffinity: {}
  automountServiceAccountToken: false
  containers:
    - name: main
      image: busybox
      terminationMessagePolicy: File
status: {}
`;

describe('warned fields', () => {
  it('are one WARN_MANIFEST_IGNORED at each key, and the pod is used without them', async () => {
    const d = await folder(POD);
    const r = await loadManifests(d);
    const f = join(d, 'pod.yaml');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `${f}:5:3: WARN_MANIFEST_IGNORED: metadata.creationTimestamp is ignored: set by a cluster's API server: it means nothing in a file`,
      `${f}:7:3: WARN_MANIFEST_IGNORED: spec.nodeSelector is ignored: only a scheduler uses it: berth runs every pod on this host`,
      `${f}:8:3: WARN_MANIFEST_IGNORED: spec.affinity is ignored: only a scheduler uses it: berth runs every pod on this host`,
      `${f}:10:3: WARN_MANIFEST_IGNORED: spec.automountServiceAccountToken is ignored: there is no cluster API for a service account to talk to`,
      `${f}:14:7: WARN_MANIFEST_IGNORED: spec.containers.0.terminationMessagePolicy is ignored: only the file at terminationMessagePath is read`,
      `${f}:15:1: WARN_MANIFEST_IGNORED: status is ignored: a pod status is written by a cluster, never read from a file`,
    ]);
    expect(r.brokenFiles).toEqual([]);
    const pod = r.docs[0]?.doc as PodManifest;
    expect(pod.spec).toEqual({ containers: [{ name: 'main', image: 'busybox' }] });
    expect(pod.metadata).toEqual({ name: 'web' });
  });

  it('validate exits 0 and says valid with the warning count when there are only warnings', async () => {
    const d = await folder(POD);
    const res = await runBerth(['validate', d]);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('1 file(s), 1 pod(s), 0 image(s): valid (6 warning(s))\n');
    expect(res.stderr.split('\n').filter(Boolean)).toHaveLength(6);
  });
});

describe('refused fields and volume sources', () => {
  it('an unsupported volume source is one error naming it and why, not four oneOf lines', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  containers: [{name: main, image: busybox}]
  volumes:
    - name: data
      nfs: {server: nas, path: /export}
`;
    expect(parseFile(text, 'm.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      "m.yaml:8:7: ERR_MANIFEST_UNSUPPORTED: field spec.volumes.0.nfs is not supported by berth: a network or cloud volume needs a cluster's attach machinery: mount it on the host and use hostPath",
    ]);
  });

  it('a refused list given empty asks for nothing and is taken, as a cluster checks those lists by length', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  resourceClaims: []
  ephemeralContainers: []
  containers:
    - {name: main, image: busybox, volumeDevices: [], resources: {claims: []}}
    - {name: side, image: busybox, volumeDevices: [{name: raw, devicePath: /dev/xvda}]}
`;
    const r = parseFile(text, 'm.yaml');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      'm.yaml:9:36: ERR_MANIFEST_UNSUPPORTED: field spec.containers.1.volumeDevices is not supported by berth: raw block devices from claims need a cluster',
    ]);
  });

  it('[] for a refused field that is no list is refused as any value of it (a cluster cannot decode it)', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  runtimeClassName: []
  containers:
    - name: main
      image: busybox
      env: [{name: X, valueFrom: {fileKeyRef: []}}]
  volumes:
    - {name: data, nfs: []}
`;
    expect(parseFile(text, 'm.yaml').diagnostics.map((d) => `${d.code} ${d.message.split(':')[0]}`)).toEqual([
      'ERR_MANIFEST_UNSUPPORTED field spec.runtimeClassName is not supported by berth',
      'ERR_MANIFEST_UNSUPPORTED field spec.containers.0.env.0.valueFrom.fileKeyRef is not supported by berth',
      'ERR_MANIFEST_UNSUPPORTED field spec.volumes.0.nfs is not supported by berth',
    ]);
  });

  it('a volume with no source, and emptyDir: null, are emptyDirs (Kubernetes default)', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  containers: [{name: main, image: busybox}]
  volumes:
    - name: a
    - name: b
      emptyDir:
`;
    const r = parseFile(text, 'm.yaml');
    expect(r.diagnostics).toEqual([]);
    expect((r.parsed[0]?.value as PodManifest | undefined)?.spec.volumes).toEqual([
      { name: 'a', emptyDir: {} },
      { name: 'b', emptyDir: {} },
    ]);
  });

  it('two sources on one volume are one line', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  containers: [{name: main, image: busybox}]
  volumes:
    - {name: a, emptyDir: {}, hostPath: {path: /srv}}
`;
    expect(parseFile(text, 'm.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      'm.yaml:7:7: ERR_MANIFEST_SCHEMA: spec.volumes.0 must have exactly one of its possible sources, not several',
    ]);
  });

  it('the owner fields of 1.37 (AtomicWriteVolumeUserFields) on projected and downwardAPI volumes are refused by name, as on configMap and secret', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  containers:
    - {name: main, image: busybox}
  volumes:
    - name: all
      projected:
        defaultUser: 1000
        sources:
          - configMap: {name: conf, items: [{key: a, path: a, user: 1000}]}
          - secret: {name: cred, items: [{key: b, path: b, user: 1000}]}
          - downwardAPI: {items: [{path: c, fieldRef: {fieldPath: metadata.name}, user: 1000}]}
    - name: info
      downwardAPI: {items: [{path: d, fieldRef: {fieldPath: metadata.name}, user: 1000}]}
`;
    expect(
      parseFile(text, 'm.yaml').diagnostics.map(
        (d) => `${d.line}:${d.col} ${d.code} ${d.message.split(':')[0]}`,
      ),
    ).toEqual([
      '10:9 ERR_MANIFEST_UNSUPPORTED field spec.volumes.0.projected.defaultUser is not supported by berth',
      '12:63 ERR_MANIFEST_UNSUPPORTED field spec.volumes.0.projected.sources.0.configMap.items.0.user is not supported by berth',
      '13:60 ERR_MANIFEST_UNSUPPORTED field spec.volumes.0.projected.sources.1.secret.items.0.user is not supported by berth',
      '14:83 ERR_MANIFEST_UNSUPPORTED field spec.volumes.0.projected.sources.2.downwardAPI.items.0.user is not supported by berth',
      '16:77 ERR_MANIFEST_UNSUPPORTED field spec.volumes.1.downwardAPI.items.0.user is not supported by berth',
    ]);
  });

  it('a field Kubernetes added after the vendored schema is named by its tier, never "unknown field"', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  initContainers:
    - name: side
      image: busybox
      restartPolicy: Always
      restartPolicyRules: [{action: RestartAllContainers, exitCodes: {operator: In, values: [42]}}]
  containers:
    - name: main
      image: busybox
      env:
        - name: A
          valueFrom:
            fileKeyRef: {volumeName: cfg, path: a.env, key: A}
      lifecycle:
        stopSignal: SIGUSR1
      volumeMounts:
        - {name: cfg, mountPath: /cfg, bindMountOptions: [noexec]}
        - {name: conf, mountPath: /conf}
        - {name: cert, mountPath: /cert}
  volumes:
    - {name: cfg, emptyDir: {}}
    - name: conf
      configMap: {name: conf, defaultUser: 1000, items: [{key: a, path: a, user: 1000}]}
    - name: cert
      projected:
        sources: [{podCertificate: {signerName: example.com/s, keyType: ED25519, credentialBundlePath: b.pem}}]
`;
    expect(parseFile(text, 'm.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      'm.yaml:9:37: ERR_MANIFEST_UNSUPPORTED: restartPolicyRules action RestartAllContainers (Kubernetes 1.35 alpha, RestartAllContainersOnContainerExits) is not supported by berth: a rule restarts only the container that exited (action Restart)',
      'm.yaml:16:13: ERR_MANIFEST_UNSUPPORTED: field spec.containers.0.env.0.valueFrom.fileKeyRef is not supported by berth: berth does not read variables from a file in a volume: set them in env, or read the file in the command',
      'm.yaml:18:21: ERR_MANIFEST_INVALID: lifecycle.stopSignal needs spec.os.name (linux), as Kubernetes requires',
      'm.yaml:20:40: ERR_MANIFEST_UNSUPPORTED: field spec.containers.0.volumeMounts.0.bindMountOptions is not supported by berth: not yet: running the container without the mount options it asks for would be less safe',
      "m.yaml:26:31: ERR_MANIFEST_UNSUPPORTED: field spec.volumes.1.configMap.defaultUser is not supported by berth: not yet: a config volume's files are owned by the pod's root",
      "m.yaml:26:76: ERR_MANIFEST_UNSUPPORTED: field spec.volumes.1.configMap.items.0.user is not supported by berth: not yet: a config volume's files are owned by the pod's root",
      'm.yaml:29:20: WARN_MANIFEST_IGNORED: spec.volumes.2.projected.sources.0.podCertificate is ignored: only a cluster issues pod certificates: none is issued, its file is not written',
    ]);
  });

  it('a typo of a known field says which one was meant', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  containers:
    - name: main
      image: busybox
      commands: [sleep, "1"]
`;
    expect(parseFile(text, 'm.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      'm.yaml:8:7: ERR_MANIFEST_SCHEMA: unknown field spec.containers.0.commands (did you mean command?)',
    ]);
  });

  it('a document without apiVersion is one line saying so', () => {
    const text = 'kind: Pod\nmetadata: {name: db}\nspec:\n  containers: [{name: main, image: busybox}]\n';
    expect(parseFile(text, 'm.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      'm.yaml:1:7: ERR_MANIFEST_KIND: the Pod has no apiVersion: a cluster rejects it too (add apiVersion: v1)',
    ]);
  });

  it('a document without kind says so (it said "kind undefined")', () => {
    // kubectl's own broken test file: `ind: Pod`.
    const text =
      'apiVersion: v1\nind: Pod\nmetadata: {name: db}\nspec:\n  containers: [{name: main, image: busybox}]\n';
    expect(parseFile(text, 'm.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      'm.yaml:1:1: ERR_MANIFEST_KIND: the document (apiVersion v1) has no kind: a cluster rejects it too (add kind: Pod, or the kind it is)',
    ]);
  });

  it('a document of neither apiVersion nor kind ({} between two ---) says so (it said "apiVersion undefined, kind undefined")', () => {
    const text =
      '---\n{}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: db}\nspec:\n  containers: [{name: main, image: busybox}]\n';
    expect(parseFile(text, 'm.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      'm.yaml:2:1: ERR_MANIFEST_KIND: the document has no apiVersion and no kind: a cluster rejects it too ("Object \'Kind\' is missing"); an empty document is one with nothing in it, not {}',
    ]);
  });

  it('a kind named after an Object property (constructor, __proto__) is a kind berth does not run, not an internal error', () => {
    for (const kind of ['constructor', '__proto__', 'toString']) {
      const text = `apiVersion: v1\nkind: ${kind}\nmetadata: {name: db}\n`;
      expect(parseFile(text, 'm.yaml').diagnostics.map((d) => d.code)).toEqual(['ERR_MANIFEST_KIND']);
    }
  });

  it('a scheduler field a cluster refuses is named with the rule it breaks, not taken with a warning', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  nodeName: Edge_1
  tolerations:
    - {key: k, operator: Exists, effect: NoSchedule, tolerationSeconds: 30}
    - {operator: Equal, value: x}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
          - matchExpressions: [{key: zone, operator: In}, {key: edge, operator: Exists, values: [x]}]
            matchFields: [{key: metadata.labels, operator: In, values: [a]}]
  containers:
    - name: main
      image: busybox
      env: [{name: A, valueFrom: {configMapKeyRef: {name: app_config, key: a}}}]
      readinessProbe: {tcpSocket: {port: 80}, terminationGracePeriodSeconds: 5}
`;
    expect(parseFile(text, 'm.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      'm.yaml:5:3: WARN_MANIFEST_IGNORED: spec.nodeName is ignored: only a scheduler uses it: berth runs every pod on this host',
      "m.yaml:5:13: ERR_MANIFEST_SCHEMA: spec.nodeName must be a DNS subdomain: lowercase letters, digits, '-' and '.', each part between dots starting and ending with a letter or digit (a cluster rejects it too)",
      'm.yaml:6:3: WARN_MANIFEST_IGNORED: spec.tolerations is ignored: only a scheduler uses it: berth runs every pod on this host',
      'm.yaml:7:42: ERR_MANIFEST_SCHEMA: spec.tolerations.0.effect must be "NoExecute" when tolerationSeconds is set (a cluster rejects another effect there)',
      'm.yaml:8:18: ERR_MANIFEST_SCHEMA: spec.tolerations.1.operator must be "Exists" when key is empty (a cluster rejects another operator there: an empty key with Exists matches every taint)',
      'm.yaml:9:3: WARN_MANIFEST_IGNORED: spec.affinity is ignored: only a scheduler uses it: berth runs every pod on this host',
      'm.yaml:13:32: ERR_MANIFEST_SCHEMA: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0.matchExpressions.0.values must hold a value when operator is In or NotIn (a cluster rejects it too)',
      'm.yaml:13:97: ERR_MANIFEST_SCHEMA: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0.matchExpressions.1.values must be empty when operator is Exists or DoesNotExist (a cluster rejects it too)',
      'm.yaml:14:33: ERR_MANIFEST_SCHEMA: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0.matchFields.0.key must be one of metadata.name',
      "m.yaml:18:59: ERR_MANIFEST_SCHEMA: spec.containers.0.env.0.valueFrom.configMapKeyRef.name must be a DNS subdomain: lowercase letters, digits, '-' and '.', each part between dots starting and ending with a letter or digit (a cluster rejects it too)",
      'm.yaml:19:78: ERR_MANIFEST_SCHEMA: spec.containers.0.readinessProbe.terminationGracePeriodSeconds may not be set on a readinessProbe (only liveness and startup probes take it, as in Kubernetes)',
    ]);
  });

  it('a scheduler field a cluster takes is taken (with its warning), and a missing toleration operator or effect says why', () => {
    const pod = (spec: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: db}\nspec:\n${spec}  containers: [{name: main, image: busybox}]\n`;
    const lines = (spec: string) => parseFile(pod(spec), 'm.yaml').diagnostics.map(formatDiagnostic);
    // Kubernetes does not check schedulerName, and checks nodeName and priorityClassName only when not empty.
    expect(lines('  schedulerName: my scheduler\n  nodeName: ""\n  priorityClassName: ""\n')).toEqual([
      'm.yaml:5:3: WARN_MANIFEST_IGNORED: spec.schedulerName is ignored: only a scheduler uses it: berth runs every pod on this host',
      'm.yaml:6:3: WARN_MANIFEST_IGNORED: spec.nodeName is ignored: only a scheduler uses it: berth runs every pod on this host',
      'm.yaml:7:3: WARN_MANIFEST_IGNORED: spec.priorityClassName is ignored: only a scheduler uses it: berth runs every pod on this host',
    ]);
    expect(
      lines(
        '  tolerations:\n    - {effect: NoSchedule}\n    - {key: k, operator: Exists, tolerationSeconds: 30}\n',
      ),
    ).toEqual([
      'm.yaml:5:3: WARN_MANIFEST_IGNORED: spec.tolerations is ignored: only a scheduler uses it: berth runs every pod on this host',
      'm.yaml:6:7: ERR_MANIFEST_SCHEMA: spec.tolerations.0.operator is required and must be Exists when key is empty (a cluster rejects it too: operator must be Exists when `key` is empty, which means "match all values and all keys")',
      "m.yaml:7:7: ERR_MANIFEST_SCHEMA: spec.tolerations.1.effect is required and must be NoExecute when tolerationSeconds is set (a cluster rejects it too: effect must be 'NoExecute' when `tolerationSeconds` is set)",
    ]);
    // ValidatePodCreate: nodeName only once every scheduling gate is cleared (an empty list has none).
    expect(lines('  nodeName: edge-1\n  schedulingGates: [{name: example.com/quota}]\n')).toContain(
      'm.yaml:5:13: ERR_MANIFEST_SCHEMA: spec.nodeName cannot be set until all schedulingGates have been cleared (a cluster rejects a pod created with both)',
    );
    expect(lines('  nodeName: edge-1\n  schedulingGates: []\n').filter((l) => l.includes('ERR_'))).toEqual(
      [],
    );
    // envFrom names are prefixes to Kubernetes (one trailing '-' passes); a key reference's are not.
    const refErrors = (container: string) =>
      lines(`  initContainers: [{name: i, image: busybox, ${container}}]\n`).filter((l) => l.includes('ERR_'))
        .length;
    expect([
      refErrors('envFrom: [{configMapRef: {name: app-config-}}]'),
      refErrors('envFrom: [{secretRef: {name: a-}}]'),
      refErrors('envFrom: [{configMapRef: {name: "-"}}]'),
      refErrors('envFrom: [{configMapRef: {name: App-}}]'),
      refErrors('envFrom: [{configMapRef: {name: app--}}]'),
      refErrors('env: [{name: A, valueFrom: {configMapKeyRef: {name: app-config-, key: a}}}]'),
    ]).toEqual([0, 0, 1, 1, 0, 1]);
    // A qualified name is bounded: a name part of at most 63 characters, a prefix of at most 253.
    const gate = (name: string) =>
      lines(`  schedulingGates: [{name: ${name}}]\n`).filter((l) => l.includes('ERR_')).length;
    const prefix253 = `${'b'.repeat(49)}.${['b'.repeat(50), 'b'.repeat(50), 'b'.repeat(50), 'b'.repeat(50)].join('.')}`;
    expect(prefix253).toHaveLength(253);
    expect([
      gate('a'.repeat(63)),
      gate('a'.repeat(64)),
      gate(`${prefix253}/q`),
      gate(`b${prefix253}/q`),
    ]).toEqual([0, 1, 0, 1]);
  });
});

describe('slips podman tolerates', () => {
  it('are accepted with a warning saying what a cluster rejects, and used as podman uses them', () => {
    const text = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {port: 3000, rule: "Host(\`x\`)"}
spec:
  containers:
    - name: main
      image: busybox
      env:
        - {name: PORT, value: 3000}
        - {name: DEBUG, value: yes}
        - {name: RATIO, value: 1.50}
      securityContext:
        capabilities: {add: [CAP_NET_ADMIN]}
      volumeMounts:
        - {name: sock, mountPath: "/run/x.sock:z"}
        - {name: sock, mountPath: "/run/y.sock:ro"}
  volumes:
    - {name: sock, hostPath: {path: /run/x.sock}}
`;
    const r = parseFile(text, 'm.yaml');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      'm.yaml:5:18: WARN_MANIFEST_K8S_REJECTS: label value 3000 is a number: a cluster rejects it (quote it: "3000"); used as "3000"',
      "m.yaml:5:30: WARN_MANIFEST_K8S_REJECTS: label rule: a cluster rejects the value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit); used as written",
      'm.yaml:11:31: WARN_MANIFEST_K8S_REJECTS: env value 3000 is a number: a cluster rejects it (quote it: "3000"); used as "3000"',
      'm.yaml:12:32: WARN_MANIFEST_K8S_REJECTS: env value yes is a boolean: a cluster rejects it (quote it: "yes"); used as "true"',
      'm.yaml:13:32: WARN_MANIFEST_K8S_REJECTS: env value 1.50 is a number: a cluster rejects it (quote it: "1.50"); used as "1.50"',
      'm.yaml:15:30: WARN_MANIFEST_K8S_REJECTS: capability CAP_NET_ADMIN: a cluster rejects the CAP_ prefix (write NET_ADMIN); used as NET_ADMIN',
      'm.yaml:17:35: WARN_MANIFEST_K8S_REJECTS: mountPath /run/x.sock:z ends in the podman option :z: a cluster rejects it (write readOnly: true for :ro); mounted at /run/x.sock, the rest ignored',
      'm.yaml:18:35: WARN_MANIFEST_K8S_REJECTS: mountPath /run/y.sock:ro ends in the podman option :ro: a cluster rejects it (write readOnly: true for :ro); mounted at /run/y.sock read-only, the rest ignored',
    ]);
    const pod = r.parsed[0]?.value as PodManifest;
    expect(pod.metadata.labels).toEqual({ port: '3000', rule: 'Host(`x`)' });
    expect(pod.spec.containers[0]?.env).toEqual([
      { name: 'PORT', value: '3000' },
      { name: 'DEBUG', value: 'true' }, // as podman's reader makes a boolean there
      { name: 'RATIO', value: '1.50' },
    ]);
    expect(pod.spec.containers[0]?.volumeMounts).toEqual([
      { name: 'sock', mountPath: '/run/x.sock' },
      { name: 'sock', mountPath: '/run/y.sock', readOnly: true },
    ]);
  });

  it('a port protocol in lower or mixed case (kubernetes/examples aws-ebs-web: tcp) is that protocol, as podman lowercases it', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: main
      image: nginx
      ports:
        - {containerPort: 80, protocol: tcp}
        - {containerPort: 53, hostPort: 5353, protocol: Udp}
        - {containerPort: 81, protocol: SCTP}
`;
    const r = parseFile(text, 'm.yaml');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      'm.yaml:9:41: WARN_MANIFEST_K8S_REJECTS: port protocol tcp: a cluster takes only TCP, UDP or SCTP (write TCP); used as TCP',
      'm.yaml:10:57: WARN_MANIFEST_K8S_REJECTS: port protocol Udp: a cluster takes only TCP, UDP or SCTP (write UDP); used as UDP',
    ]);
    const pod = r.parsed[0]?.value as PodManifest;
    expect(pod.spec.containers[0]?.ports?.map((p) => p.protocol)).toEqual(['TCP', 'UDP', 'SCTP']);
    // A protocol that is none of the three in any case is still the schema's error.
    const icmp = parseFile(text.replace('protocol: SCTP', 'protocol: icmp'), 'm.yaml');
    expect(icmp.diagnostics.map(formatDiagnostic).at(-1)).toBe(
      'm.yaml:11:41: ERR_MANIFEST_SCHEMA: spec.containers.0.ports.2.protocol must be one of TCP, UDP, SCTP',
    );
  });
});

/** The README's table: one row per tier and reason, fields in table order. */
function renderTierTable(): string {
  const rows = new Map<string, string[]>();
  for (const [field, t] of Object.entries(POD_FIELD_TIERS)) {
    const key = `${t.tier}\0${t.why}`;
    rows.set(key, [...(rows.get(key) ?? []), `\`${field}\``]);
  }
  const order = ['honoured', 'warned', 'refused'];
  const sorted = [...rows].sort(
    (a, b) => order.indexOf(a[0].split('\0')[0] as string) - order.indexOf(b[0].split('\0')[0] as string),
  );
  return [
    '| tier | fields | why |',
    '| --- | --- | --- |',
    ...sorted.map(([k, fields]) => {
      const [tier, why] = k.split('\0') as [string, string];
      return `| ${tier} | ${fields.join(', ')} | ${why === 'honoured' ? '' : why} |`;
    }),
  ].join('\n');
}

describe('the README', () => {
  it('shows the tier table as the code has it', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = renderTierTable();
    if (process.env.BERTH_TIERS_PRINT) console.log(table);
    expect(readme.includes(`${table}\n`)).toBe(true);
  });
});
