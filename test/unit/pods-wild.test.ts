// Pod files as people write them from the Kubernetes docs, helm output, kubectl dumps and blog
// posts, and the rules a cluster's validation applies to them that berth must apply too: what a
// cluster refuses is refused (or, for a slip podman tolerates, said with WARN_MANIFEST_K8S_REJECTS),
// at its node.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import type { PodManifest } from '../../src/manifest/kinds.js';
import { parseFile } from '../../src/manifest/parse.js';

const lines = (text: string) => parseFile(text, 'p.yaml').diagnostics.map(formatDiagnostic);
const pod = (spec: string, meta = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n${meta}spec:\n${spec}`;
const app = '  containers:\n  - name: app\n    image: busybox\n';

describe('the downward API in env', () => {
  it('takes one label or annotation; the whole map is for a downwardAPI volume, as a cluster says', () => {
    expect(
      lines(
        pod(`${app}    env:
    - name: ALL
      valueFrom: {fieldRef: {fieldPath: metadata.labels}}
    - name: ONE
      valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}
    - name: NOTES
      valueFrom: {fieldRef: {fieldPath: metadata.annotations}}
    volumeMounts: [{name: info, mountPath: /info}]
  volumes:
  - name: info
    downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
`),
      ),
    ).toEqual([
      expect.stringMatching(/^p\.yaml:11:41: ERR_MANIFEST_SCHEMA: .*fieldPath must be one of metadata\.name/),
      expect.stringMatching(/^p\.yaml:15:41: ERR_MANIFEST_SCHEMA: .*fieldPath must be one of metadata\.name/),
    ]);
  });
});

describe('seccompProfile', () => {
  it('localhostProfile only with type Localhost, as a cluster says (the pod and each container)', () => {
    expect(
      lines(
        pod(`  securityContext:
    seccompProfile: {type: RuntimeDefault, localhostProfile: audit.json}
${app}    securityContext:
      seccompProfile: {type: Unconfined, localhostProfile: audit.json}
  - name: two
    image: busybox
    securityContext:
      seccompProfile: {type: Localhost, localhostProfile: audit.json}
`),
      ),
    ).toEqual([
      'p.yaml:7:62: ERR_MANIFEST_INVALID: localhostProfile is for type Localhost only (a cluster rejects it with type RuntimeDefault)',
      'p.yaml:12:60: ERR_MANIFEST_INVALID: localhostProfile is for type Localhost only (a cluster rejects it with type Unconfined)',
    ]);
  });
});

describe('a sleep hook', () => {
  it('sleeps no longer than the grace period (30 s when not given), as a cluster says; 0 is taken', () => {
    const hooks = (grace: string, pre: number, post: number) =>
      lines(
        pod(`${grace}${app}    lifecycle:
      postStart: {sleep: {seconds: ${post}}}
      preStop: {sleep: {seconds: ${pre}}}
`),
      );
    expect(hooks('', 30, 0)).toEqual([]);
    expect(hooks('', 31, 5)).toEqual([
      "p.yaml:11:34: ERR_MANIFEST_INVALID: lifecycle.preStop.sleep.seconds 31 is more than the pod's terminationGracePeriodSeconds (30): a cluster rejects it",
    ]);
    expect(hooks('  terminationGracePeriodSeconds: 10\n', 5, 60)).toEqual([
      "p.yaml:11:36: ERR_MANIFEST_INVALID: lifecycle.postStart.sleep.seconds 60 is more than the pod's terminationGracePeriodSeconds (10): a cluster rejects it",
    ]);
  });
});

describe('serviceAccountName', () => {
  it('is a DNS subdomain, as a cluster says', () => {
    expect(lines(pod(`  serviceAccountName: build-bot.ci\n${app}`))).toEqual([]);
    expect(lines(pod(`  serviceAccountName: Build_Bot\n${app}`))).toEqual([
      expect.stringMatching(
        /^p\.yaml:6:23: ERR_MANIFEST_SCHEMA: spec\.serviceAccountName must be a DNS subdomain/,
      ),
    ]);
  });

  it('is the deprecated serviceAccount given alone, as a cluster converts it (checked as the name, read by the downward API)', () => {
    const spec = (text: string) =>
      (parseFile(text, 'p.yaml').parsed[0]?.value as PodManifest | undefined)?.spec;
    const alone = pod(`  serviceAccount: builder\n${app}`);
    expect(lines(alone)).toEqual([]);
    expect(spec(alone)?.serviceAccountName).toBe('builder');
    // An empty serviceAccountName is none: the alias fills it.
    expect(spec(pod(`  serviceAccountName: ""\n  serviceAccount: builder\n${app}`))?.serviceAccountName).toBe(
      'builder',
    );
    expect(lines(pod(`  serviceAccount: Build_Bot\n${app}`))).toEqual([
      expect.stringMatching(
        /^p\.yaml:6:19: ERR_MANIFEST_SCHEMA: spec\.serviceAccount "Build_Bot" must be a DNS subdomain.*it is the pod's serviceAccountName$/,
      ),
    ]);
    // Beside serviceAccountName the new field wins, and the old one is dropped unread.
    const both = pod(`  serviceAccountName: web\n  serviceAccount: Old_Web\n${app}`);
    expect(lines(both)).toEqual([
      expect.stringMatching(/^p\.yaml:7:3: WARN_MANIFEST_IGNORED: spec\.serviceAccount is ignored/),
    ]);
    expect(spec(both)?.serviceAccountName).toBe('web');
  });
});

describe('a string map entry left blank', () => {
  it('is "", the key kept, as Go\'s JSON decoder reads a null map element (a struct field left blank is none)', () => {
    const cm =
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: env\n  labels: {tier: }\ndata:\n  A:\n  B: x\n';
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {P: }\ndata: {Q: }\n';
    const p = pod(
      `${app}    env: [{name: E, value: }]\n  nodeSelector: {disk: }\n`,
      '  labels: {canary: }\n',
    );
    const list = `apiVersion: v1\nkind: List\nitems:\n- ${cm.replaceAll('\n', '\n  ').trimEnd()}\n`;
    const values = (text: string) => parseFile(text, 'p.yaml').parsed.map((d) => d.value as unknown);
    expect(values(`${cm}---\n${secret}`)).toEqual([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'env', labels: { tier: '' } },
        data: { A: '', B: 'x' },
      },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { P: '' }, data: { Q: '' } },
    ]);
    expect(values(list)).toEqual([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'env', labels: { tier: '' } },
        data: { A: '', B: 'x' },
      },
    ]);
    const spec = (values(p)[0] as PodManifest).spec;
    expect([(values(p)[0] as PodManifest).metadata.labels, spec.containers[0]?.env]).toEqual([
      { canary: '' },
      [{ name: 'E' }],
    ]);
  });
});

describe('label and annotation keys', () => {
  it('odd but valid keys pass in silence', () => {
    expect(
      lines(
        pod(
          app,
          `  labels:
    app.kubernetes.io/name: web
    a.b-c/D_e.F-9: x
    "123": z
  annotations:
    Example.COM/Note: upper-case prefixes are lowered for annotations
    checksum/config: 3d7f
`,
        ),
      ),
    ).toEqual([]);
  });

  it('a key a cluster refuses is a WARN_MANIFEST_K8S_REJECTS at the key, the pod used as podman uses it', () => {
    const text = pod(
      app,
      `  labels:
    Example.COM/team: x
    traefik.http.routers.web.tls.domains[0].main: example.com
    -lead: x
    a/b/c: x
  annotations:
    "": x
    bind-mount-options:/data: Z
`,
    );
    const r = parseFile(text, 'p.yaml');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      "p.yaml:6:5: WARN_MANIFEST_K8S_REJECTS: label key Example.COM/team: a cluster rejects it (a prefix must be a DNS subdomain: lowercase letters, digits, '-' and '.'); used as written",
      "p.yaml:7:5: WARN_MANIFEST_K8S_REJECTS: label key traefik.http.routers.web.tls.domains[0].main: a cluster rejects it (a name must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit); used as written",
      "p.yaml:8:5: WARN_MANIFEST_K8S_REJECTS: label key -lead: a cluster rejects it (a name must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit); used as written",
      "p.yaml:9:5: WARN_MANIFEST_K8S_REJECTS: label key a/b/c: a cluster rejects it (at most one '/', between a DNS subdomain prefix and a name); used as written",
      "p.yaml:11:5: WARN_MANIFEST_K8S_REJECTS: annotation key \"\": a cluster rejects it (a name must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit); used as written",
      "p.yaml:12:5: WARN_MANIFEST_K8S_REJECTS: annotation key bind-mount-options:/data: a cluster rejects it (a prefix must be a DNS subdomain: lowercase letters, digits, '-' and '.'); used as written",
    ]);
    expect(r.parsed).toHaveLength(1);
  });
});

describe('fields berth ignores (scheduler fields)', () => {
  it('are still read as a cluster reads them: a wrong shape is refused, a right one is one warning', () => {
    // kubernetes/website's pod-with-node-affinity.yaml of 2023: preference terms under `required…`.
    expect(
      lines(
        pod(`  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - weight: 5
        preference: {matchExpressions: [{key: zone, operator: In, values: [a]}]}
  tolerations:
  - {key: dedicated, operator: Equal, value: gpu, effect: NoSchedule, tolerationSecond: 60}
  nodeSelector: {disk: [ssd]}
  priority: high
${app}`),
      ),
    ).toEqual([
      'p.yaml:6:3: WARN_MANIFEST_IGNORED: spec.affinity is ignored: only a scheduler uses it: berth runs every pod on this host',
      'p.yaml:9:7: ERR_MANIFEST_SCHEMA: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution must be object',
      'p.yaml:11:3: WARN_MANIFEST_IGNORED: spec.tolerations is ignored: only a scheduler uses it: berth runs every pod on this host',
      expect.stringMatching(
        /^p\.yaml:12:71: ERR_MANIFEST_SCHEMA: unknown field spec\.tolerations\.0\.tolerationSecond/,
      ),
      'p.yaml:13:3: WARN_MANIFEST_IGNORED: spec.nodeSelector is ignored: only a scheduler uses it: berth runs every pod on this host',
      'p.yaml:13:24: ERR_MANIFEST_SCHEMA: spec.nodeSelector.disk must be string',
      'p.yaml:14:3: WARN_MANIFEST_IGNORED: spec.priority is ignored: only a scheduler uses it: berth runs every pod on this host',
      'p.yaml:14:13: ERR_MANIFEST_SCHEMA: spec.priority must be integer',
    ]);
    const ok = parseFile(
      pod(`  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a]}]}]
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm: {labelSelector: {matchLabels: {app: web}}, topologyKey: kubernetes.io/hostname}
  tolerations: [{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}]
  topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]
  priorityClassName: system-node-critical
${app}`),
      'p.yaml',
    );
    expect(ok.diagnostics.map((d) => d.code)).toEqual(Array(4).fill('WARN_MANIFEST_IGNORED'));
    expect(ok.parsed[0]?.value).toMatchObject({ spec: { containers: [{ name: 'app' }] } });
    expect(Object.keys((ok.parsed[0]?.value as { spec: object } | undefined)?.spec ?? {})).toEqual([
      'containers',
    ]);
  });
});

describe('scheduler fields: the values a cluster checks', () => {
  it('operators, effects, weights, maxSkew and policies outside what Kubernetes takes are refused', () => {
    const found = lines(
      pod(`  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []}
      preferredDuringSchedulingIgnoredDuringExecution:
      - {weight: 0, preference: {matchExpressions: [{key: zone, operator: in, values: [a]}]}}
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {labelSelector: {matchExpressions: [{key: app, operator: Gt, values: ['1']}]}, topologyKey: zone}
  tolerations: [{key: a, operator: exists, effect: NoExec}]
  topologySpreadConstraints: [{maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotScheduled}]
  preemptionPolicy: never
${app}`),
    ).filter((l) => l.includes('ERR_'));
    expect(found).toEqual([
      'p.yaml:8:75: ERR_MANIFEST_SCHEMA: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms must NOT have fewer than 1 items',
      'p.yaml:10:18: ERR_MANIFEST_SCHEMA: spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution.0.weight must be >= 1',
      'p.yaml:10:75: ERR_MANIFEST_SCHEMA: spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution.0.preference.matchExpressions.0.operator must be one of In, NotIn, Exists, DoesNotExist, Gt, Lt',
      'p.yaml:13:66: ERR_MANIFEST_SCHEMA: spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution.0.labelSelector.matchExpressions.0.operator must be one of In, NotIn, Exists, DoesNotExist',
      'p.yaml:14:36: ERR_MANIFEST_SCHEMA: spec.tolerations.0.operator must be one of "", Equal, Exists, Lt, Gt',
      'p.yaml:14:52: ERR_MANIFEST_SCHEMA: spec.tolerations.0.effect must be one of "", NoSchedule, PreferNoSchedule, NoExecute',
      'p.yaml:15:41: ERR_MANIFEST_SCHEMA: spec.topologySpreadConstraints.0.maxSkew must be >= 1',
      'p.yaml:15:82: ERR_MANIFEST_SCHEMA: spec.topologySpreadConstraints.0.whenUnsatisfiable must be one of DoNotSchedule, ScheduleAnyway',
      'p.yaml:16:21: ERR_MANIFEST_SCHEMA: spec.preemptionPolicy must be one of PreemptLowerPriority, Never',
    ]);
  });
});

describe('a toleration with operator Exists', () => {
  it('has no value (Exists matches every value): a cluster rejects one', () => {
    const tolerations = (t: string) =>
      lines(pod(`  tolerations: [${t}]\n${app}`)).filter((l) => l.includes('ERR_'));
    expect(tolerations('{key: a, operator: Exists}, {key: b, operator: Exists, value: ""}')).toEqual([]);
    expect(tolerations('{key: a, operator: Exists, value: b}, {key: c, value: d}')).toEqual([
      'p.yaml:6:51: ERR_MANIFEST_SCHEMA: spec.tolerations.0.value must be "" with operator Exists (a cluster rejects a value there: Exists matches every value)',
    ]);
  });
});

describe('terminationGracePeriodSeconds', () => {
  it('takes the hours and days a cluster takes (a draining game server, a long job), up to what a Go duration holds', () => {
    for (const grace of [3601, 7200, 86400])
      expect(lines(pod(`  terminationGracePeriodSeconds: ${grace}\n${app}`))).toEqual([]);
    expect(lines(pod(`  terminationGracePeriodSeconds: 9223372037\n${app}`))).toEqual([
      "p.yaml:6:34: ERR_MANIFEST_SCHEMA: spec.terminationGracePeriodSeconds must be at most 9223372036 (292 years: the runtime's stop timeout, a Go duration, holds no more)",
    ]);
  });
});

describe('a probe with no handler', () => {
  it('says which handlers it may have, not that it has several', () => {
    expect(lines(pod(`${app}    livenessProbe:\n      periodSeconds: 5\n`))).toEqual([
      'p.yaml:10:7: ERR_MANIFEST_SCHEMA: spec.containers.0.livenessProbe must have one of exec, httpGet, tcpSocket, grpc (none is given)',
    ]);
  });
});

describe('a quantity that does not parse', () => {
  it('is one line saying what a quantity looks like, not a regular expression and two more', () => {
    const limits = (q: string) => lines(pod(`${app}    resources: {limits: {cpu: "${q}", memory: 64Mi}}\n`));
    for (const q of ['5e-1', '2E-3', '1.0', '.5', '1Ki']) expect(limits(q)).toEqual([]);
    for (const q of ['1K', '1KB', '1gi', '1_000', '0x10'])
      expect(limits(q)).toEqual([
        'p.yaml:9:31: ERR_MANIFEST_SCHEMA: spec.containers.0.resources.limits.cpu must be a quantity: a number with an optional suffix (500m, 0.5, 128Mi, 1Gi, 1e3; binary suffixes Ki, Mi, Gi, Ti, Pi, Ei, decimal n, u, m, k, M, G, T, P, E)',
      ]);
  });
});

describe("a value the schema's pattern refuses", () => {
  it('is told in words, never as the regular expression', () => {
    const found = lines(
      pod(`  hostAliases: [{ip: not-an-ip, hostnames: [a]}]
  dnsConfig: {nameservers: [1.2.3], searches: [a_b], options: [{name: 'a b'}]}
${app}    env: [{name: 'A=B', value: x}]
    volumeMounts: [{name: v, mountPath: relative}]
  volumes: [{name: v}]
`),
    );
    expect(found.filter((l) => l.includes('must match pattern'))).toEqual([]);
    expect(found).toContain(
      'p.yaml:6:22: ERR_MANIFEST_SCHEMA: spec.hostAliases.0.ip must be an IPv4 or IPv6 address (a cluster rejects it too)',
    );
  });
});

describe('hostPort: 0', () => {
  it('is no hostPort, as a cluster reads it (a chart rendering `hostPort: {{ .Values.hostPort | default 0 }}`)', () => {
    const r = parseFile(
      pod(`${app}    ports: [{containerPort: 80, hostPort: 0}, {containerPort: 81, hostPort: 8081}]\n`),
      'p.yaml',
    );
    expect(r.diagnostics).toEqual([]);
    expect(
      (r.parsed[0]?.value as { spec: { containers: Array<{ ports: unknown }> } } | undefined)?.spec
        .containers[0]?.ports,
    ).toEqual([{ containerPort: 80 }, { containerPort: 81, hostPort: 8081 }]);
    expect(lines(pod(`  hostNetwork: true\n${app}    ports: [{containerPort: 80, hostPort: 0}]\n`))).toEqual(
      [],
    );
  });
});

describe('an env name', () => {
  it('is printable ASCII but =, as Kubernetes 1.34 takes it (RelaxedEnvironmentVariableValidation)', () => {
    expect(lines(pod(`${app}    env: [{name: 'A B', value: x}, {name: 1st.var-x, value: x}]\n`))).toEqual([]);
    expect(lines(pod(`${app}    env: [{name: NÄME, value: x}]\n`))).toEqual([
      "p.yaml:9:18: ERR_MANIFEST_SCHEMA: spec.containers.0.env.0.name must be printable ASCII characters other than '=' (a cluster rejects it too)",
    ]);
  });
});

describe("a kubectl dump's kube-api-access volume", () => {
  it("skips the cluster's CA beside the token it does not issue, so the pod does not wait for a ConfigMap no host has", () => {
    const r = parseFile(
      pod(`${app}    volumeMounts: [{name: kube-api-access-8x7dq, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}]
  volumes:
  - name: kube-api-access-8x7dq
    projected:
      defaultMode: 420
      sources:
      - serviceAccountToken: {expirationSeconds: 3607, path: token}
      - configMap:
          items: [{key: ca.crt, path: ca.crt}]
          name: kube-root-ca.crt
      - downwardAPI:
          items: [{fieldRef: {apiVersion: v1, fieldPath: metadata.namespace}, path: namespace}]
`),
      'p.yaml',
    );
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      'p.yaml:15:9: WARN_MANIFEST_IGNORED: spec.volumes.0.projected.sources.0.serviceAccountToken is ignored: there is no cluster API for a service account to talk to: no token is issued, its file is not written',
      "p.yaml:16:9: WARN_MANIFEST_IGNORED: spec.volumes.0.projected.sources.1.configMap kube-root-ca.crt is ignored: a cluster's API server publishes it, the CA for the service account token that is not issued: its file is not written",
    ]);
    const volume = (r.parsed[0]?.value as PodManifest | undefined)?.spec.volumes?.[0];
    expect(JSON.stringify(volume)).not.toContain('kube-root-ca.crt');
    // Without the token beside it, it is a ConfigMap as any other (the folder may define it).
    expect(
      lines(
        pod(`${app}  volumes:
  - name: ca
    projected: {sources: [{configMap: {name: kube-root-ca.crt}}]}
`),
      ),
    ).toEqual([]);
  });
});
