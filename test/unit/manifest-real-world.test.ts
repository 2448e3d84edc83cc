// Pod files as people really write them (helm, kubeadm, kubectl dumps, YAML 1.1 habits) load; what a
// cluster refuses and would hide a danger (a volume name given twice, a mount shadowing another, a
// host port twice, a `..` in a hostPath, a NUL) is refused at its node; what berth cannot give (GPUs,
// ephemeral-storage, a service account token) is a warning and the file is used.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import { expandVariables, MAX_EXPANDED } from '../../src/manifest/expand.js';
import type { ManifestDoc, PodManifest } from '../../src/manifest/kinds.js';
import { parseFile } from '../../src/manifest/parse.js';
import { desiredState } from '../../src/reconcile/desired.js';

const check = (text: string) => {
  const r = parseFile(text, 'p.yaml');
  return { lines: r.diagnostics.map(formatDiagnostic), pod: r.parsed[0]?.value as PodManifest | undefined };
};
const head = 'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n';

describe('valid files a cluster takes', () => {
  it('null fields are fields not given (helm create, an empty env:), in a pod and its objects', () => {
    const { lines, pod } = check(`apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
spec:
  containers:
    - name: app
      image: busybox
      resources:
        # limits: {memory: 64Mi}
      env:
        - name: EMPTY
          value:
      volumeMounts:
  volumes:
`);
    expect(lines).toEqual([]);
    expect(pod?.spec.containers[0]).toEqual({ name: 'app', image: 'busybox', env: [{ name: 'EMPTY' }] });
  });

  it('YAML merge keys (<<: *base) merge, as Kubernetes reads them', () => {
    const { lines, pod } = check(`${head}  containers:
    - &base {name: one, image: busybox, command: [sleep, '1']}
    - <<: *base
      name: two
`);
    expect(lines).toEqual([]);
    expect(pod?.spec.containers[1]).toEqual({ name: 'two', image: 'busybox', command: ['sleep', '1'] });
  });

  it('YAML 1.1 booleans are booleans wherever they stand, as a cluster reads them: taken at a boolean field, refused at a string one (an argument, a ConfigMap value); quoted, strings', () => {
    const { lines } = check(`${head}  hostNetwork: yes
  containers:
    - name: app
      image: busybox
      tty: On
      command: [echo, yes]
      volumeMounts: [{name: v, mountPath: /v, readOnly: "yes"}]
  volumes: [{name: v}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {DEBUG: n, QUOTED: "off"}
`);
    // Quoted, "yes" is a string to a cluster too: the schema says so.
    expect(lines).toEqual([
      'p.yaml:10:23: ERR_MANIFEST_SCHEMA: spec.containers.0.command.1 must be a string: a plain yes is a boolean to Kubernetes (YAML 1.1), which rejects it there; quote it ("yes")',
      'p.yaml:11:57: ERR_MANIFEST_SCHEMA: spec.containers.0.volumeMounts.0.readOnly must be boolean',
      'p.yaml:17:15: ERR_MANIFEST_SCHEMA: data.DEBUG must be a string: a plain n is a boolean to Kubernetes (YAML 1.1), which rejects it there; quote it ("n")',
    ]);
    const fixed = check(
      `${head}  hostNetwork: yes\n  containers:\n    - name: app\n      image: busybox\n      tty: On\n      command: [echo, 'yes', "on"]\n`,
    );
    expect(fixed.lines).toEqual([]);
    expect(fixed.pod?.spec.hostNetwork).toBe(true);
    expect(fixed.pod?.spec.containers[0]).toMatchObject({ tty: true, command: ['echo', 'yes', 'on'] });
  });

  it('a tagged yes (!!str, !) stays a string, as go-yaml resolves it; an alias of a plain yes is the boolean', () => {
    const tagged = check(
      `${head}  hostNetwork: &t yes\n  containers:\n    - name: app\n      image: busybox\n      tty: *t\n      command: [echo, !!str yes, ! on]\n`,
    );
    expect(tagged.lines).toEqual([]);
    expect(tagged.pod?.spec.containers[0]).toMatchObject({ tty: true, command: ['echo', 'yes', 'on'] });
    const aliased = check(
      `${head}  hostname: &h on\n  containers:\n    - name: app\n      image: busybox\n      workingDir: *h\n`,
    );
    expect(aliased.lines).toEqual([
      'p.yaml:5:16: ERR_MANIFEST_SCHEMA: spec.hostname must be a string: a plain on is a boolean to Kubernetes (YAML 1.1), which rejects it there; quote it ("on")',
      'p.yaml:9:19: ERR_MANIFEST_SCHEMA: spec.containers.0.workingDir must be string',
    ]);
  });

  it("resources besides cpu and memory, and a kubectl dump's token source, are warnings; the file is used", () => {
    const { lines, pod } = check(`${head}  containers:
    - name: app
      image: busybox
      resources:
        limits: {memory: 64Mi, ephemeral-storage: 1Gi, nvidia.com/gpu: 1, hugepages-2Mi: 4Mi}
        requests: {hugepages-2Mi: 4Mi}
  volumes:
    - name: kube-api-access-x
      projected:
        sources:
          - serviceAccountToken: {expirationSeconds: 3607, path: token}
          - downwardAPI: {items: [{path: namespace, fieldRef: {apiVersion: v1, fieldPath: metadata.namespace}}]}
`);
    expect(lines).toEqual([
      'p.yaml:9:51: WARN_MANIFEST_IGNORED: spec.containers.0.resources.limits.ephemeral-storage is ignored: berth limits cpu and memory only (no ephemeral-storage accounting, hugepages or device plugins)',
      'p.yaml:9:72: WARN_MANIFEST_IGNORED: spec.containers.0.resources.limits.nvidia.com/gpu is ignored: berth limits cpu and memory only (no ephemeral-storage accounting, hugepages or device plugins)',
      'p.yaml:9:90: WARN_MANIFEST_IGNORED: spec.containers.0.resources.limits.hugepages-2Mi is ignored: berth limits cpu and memory only (no ephemeral-storage accounting, hugepages or device plugins)',
      'p.yaml:10:35: WARN_MANIFEST_IGNORED: spec.containers.0.resources.requests.hugepages-2Mi is ignored: berth limits cpu and memory only (no ephemeral-storage accounting, hugepages or device plugins)',
      'p.yaml:15:13: WARN_MANIFEST_IGNORED: spec.volumes.0.projected.sources.0.serviceAccountToken is ignored: there is no cluster API for a service account to talk to: no token is issued, its file is not written',
    ]);
    expect(pod).toBeDefined();
  });

  it('AppArmor and alpha seccomp annotations are warned as their fields are (kubernetes/website hello-apparmor)', () => {
    const { lines, pod } = check(`apiVersion: v1
kind: Pod
metadata:
  name: hello-apparmor
  annotations:
    container.apparmor.security.beta.kubernetes.io/hello: localhost/k8s-apparmor-example-deny-write
    seccomp.security.alpha.kubernetes.io/pod: runtime/default
    team: web
spec:
  containers:
    - {name: hello, image: busybox}
`);
    expect(lines).toEqual([
      'p.yaml:6:59: WARN_MANIFEST_IGNORED: annotation container.apparmor.security.beta.kubernetes.io/hello is ignored: berth does not load AppArmor profiles',
      'p.yaml:7:47: WARN_MANIFEST_IGNORED: annotation seccomp.security.alpha.kubernetes.io/pod is ignored: Kubernetes no longer reads it: use securityContext.seccompProfile',
    ]);
    expect(pod?.metadata.name).toBe('hello-apparmor');
  });

  it('hostPath types Socket, CharDevice and BlockDevice are taken', () => {
    for (const type of ['Socket', 'CharDevice', 'BlockDevice'])
      expect(
        check(
          `${head}  containers: [{name: a, image: busybox}]\n  volumes: [{name: s, hostPath: {path: /run/x, type: ${type}}}]\n`,
        ).lines,
      ).toEqual([]);
    expect(
      check(
        `${head}  containers: [{name: a, image: busybox}]\n  volumes: [{name: s, hostPath: {path: /run/x, type: Sockets}}]\n`,
      ).lines,
    ).toEqual([
      'p.yaml:6:54: ERR_MANIFEST_SCHEMA: spec.volumes.0.hostPath.type must be one of "", Directory, DirectoryOrCreate, File, FileOrCreate, Socket, CharDevice, BlockDevice',
    ]);
  });

  it('an imagePullSecrets entry with an empty name (a helm value left empty) is a warning, as a cluster warns and the kubelet skips it', () => {
    const { lines, pod } = check(
      `${head}  containers: [{name: a, image: busybox}]\n  imagePullSecrets:\n  - name: ""\n  - {}\n  - name: regcred\n`,
    );
    expect(lines).toEqual([
      'p.yaml:7:5: WARN_MANIFEST_IGNORED: spec.imagePullSecrets.0 names no Secret: skipped, as the kubelet skips it (a cluster warns: invalid empty name)',
      'p.yaml:8:5: WARN_MANIFEST_IGNORED: spec.imagePullSecrets.1 names no Secret: skipped, as the kubelet skips it (a cluster warns: invalid empty name)',
    ]);
    expect(pod?.spec.imagePullSecrets).toEqual([{ name: '' }, {}, { name: 'regcred' }]);
  });

  it('an empty projected source is a warning and skipped, as a cluster warns and the kubelet skips it; two kinds in one are refused', () => {
    const vol = (sources: string) =>
      `${head}  containers: [{name: a, image: busybox, volumeMounts: [{name: v, mountPath: /v}]}]\n` +
      `  volumes:\n  - name: v\n    projected:\n      sources:\n${sources}`;
    const empty = vol('      - {}\n      - configMap: {name: cm, optional: true}\n');
    const node = { name: 'edge-1', ip: '192.0.2.7', milliCpus: 2000, memoryBytes: 4 * 2 ** 30 };
    const d = desiredState(
      [{ doc: parseFile(empty, 'p.yaml').parsed[0]?.value as ManifestDoc, file: '/m/p.yaml', line: 1 }],
      { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns', node },
    );
    expect([d.pods.length, d.unusable ?? []]).toEqual([1, []]);
    expect(check(empty).lines).toEqual([
      'p.yaml:10:9: WARN_MANIFEST_IGNORED: spec.volumes.0.projected.sources.0 has no source: skipped, as the kubelet skips it (a cluster warns: has no sources provided)',
    ]);
    expect(check(vol('      - configMap: {name: cm}\n        secret: {name: s}\n')).lines).toEqual([
      'p.yaml:10:9: ERR_MANIFEST_INVALID: spec.volumes.0.projected.sources.0 gives configMap and secret: a projected source takes exactly one of configMap, secret, downwardAPI, serviceAccountToken, clusterTrustBundle, podCertificate (a cluster rejects more than one)',
    ]);
    // A kind berth warns about and drops (clusterTrustBundle, podCertificate) counts too: a cluster
    // says "may not specify more than 1 volume type".
    const ctb = check(
      vol(
        '      - configMap: {name: cm}\n        clusterTrustBundle: {signerName: example.com/s, path: ca.pem}\n',
      ),
    ).lines;
    expect(ctb).toContain(
      'p.yaml:10:9: ERR_MANIFEST_INVALID: spec.volumes.0.projected.sources.0 gives configMap and clusterTrustBundle: a projected source takes exactly one of configMap, secret, downwardAPI, serviceAccountToken, clusterTrustBundle, podCertificate (a cluster rejects more than one)',
    );
    // `podCertificate:` left null is none given.
    expect(
      check(vol('      - configMap: {name: cm, optional: true}\n        podCertificate:\n')).lines.filter(
        (l) => l.includes('ERR_'),
      ),
    ).toEqual([]);
  });

  it('a negative terminationGracePeriodSeconds is a warning and counts as 1, as a cluster warns and treats it', () => {
    const text = `${head}  terminationGracePeriodSeconds: -1\n  containers: [{name: a, image: busybox}]\n`;
    expect(check(text).lines).toEqual([
      'p.yaml:5:34: WARN_MANIFEST_K8S_WARNS: spec.terminationGracePeriodSeconds -1 is negative: treated as 1, as a cluster treats it (with a warning: must be >= 0)',
    ]);
    const node = { name: 'edge-1', ip: '192.0.2.7', milliCpus: 2000, memoryBytes: 4 * 2 ** 30 };
    const d = desiredState(
      [{ doc: parseFile(text, 'p.yaml').parsed[0]?.value as ManifestDoc, file: '/m/p.yaml', line: 1 }],
      { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns', node },
    );
    expect(d.pods[0]?.graceSeconds).toBe(1);
  });
});

describe('objects as a cluster or podman writes them out', () => {
  it("a Service from podman kube generate -s and kubectl's ConfigMap dump: cluster-set metadata is a warning, as on a Pod", () => {
    const r = parseFile(
      `apiVersion: v1
kind: Service
metadata:
  creationTimestamp: "2024-01-09T02:24:55Z"
  labels: {app: demoweb}
  name: demoweb-libpod
spec:
  ports:
  - {name: "8050", nodePort: 31269, port: 8050, targetPort: 0}
  selector: {app: demoweb}
  type: NodePort
status:
  loadBalancer: {}
---
apiVersion: v1
data: {key: value}
kind: ConfigMap
metadata:
  creationTimestamp: "2024-01-09T02:24:55Z"
  finalizers: [x]
  name: game-config
  resourceVersion: "516"
  uid: b4952dc3-d670-11e5-8cd0-68f728db1985
`,
      'p.yaml',
    );
    expect(r.parsed.map((p) => `${p.value.kind}/${p.value.metadata.name}`)).toEqual([
      'Service/demoweb-libpod',
      'ConfigMap/game-config',
    ]);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      "p.yaml:2:7: WARN_SERVICE_IGNORED: Service demoweb-libpod is ignored: berth runs one host, where ports are published by a container's hostPort",
      "p.yaml:4:3: WARN_MANIFEST_IGNORED: metadata.creationTimestamp is ignored: set by a cluster's API server: it means nothing in a file",
      "p.yaml:19:3: WARN_MANIFEST_IGNORED: metadata.creationTimestamp is ignored: set by a cluster's API server: it means nothing in a file",
      "p.yaml:20:3: WARN_MANIFEST_IGNORED: metadata.finalizers is ignored: set by a cluster's API server: it means nothing in a file",
      "p.yaml:22:3: WARN_MANIFEST_IGNORED: metadata.resourceVersion is ignored: set by a cluster's API server: it means nothing in a file",
      "p.yaml:23:3: WARN_MANIFEST_IGNORED: metadata.uid is ignored: set by a cluster's API server: it means nothing in a file",
    ]);
  });
});

describe('a v1 List or PodList (kubectl get pods -o yaml, the API) is its items', () => {
  const all = (text: string) => {
    const r = parseFile(text, 'p.yaml');
    return {
      lines: r.diagnostics.map(formatDiagnostic),
      names: r.parsed.map((p) => `${p.value.kind}/${p.value.metadata.name}`),
    };
  };

  it("kubectl's dump of two pods: each item loads, a bad one is refused at its own line", () => {
    const { lines, names } = all(`apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: web, uid: 0b5c4e2e-1111-2222-3333-444455556666}
  spec:
    containers: [{name: nginx, image: nginx}]
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: conf}
  data: {a: b}
- apiVersion: v1
  kind: Pod
  metadata: {name: bad}
  spec:
    containers:
    - {name: x, image: busybox, ports: [{containerPort: 99999}]}
kind: List
metadata: {resourceVersion: ""}
`);
    expect(names).toEqual(['Pod/web', 'ConfigMap/conf']);
    expect(lines).toEqual([
      "p.yaml:5:25: WARN_MANIFEST_IGNORED: metadata.uid is ignored: set by a cluster's API server: it means nothing in a file",
      'p.yaml:17:57: ERR_MANIFEST_SCHEMA: spec.containers.0.ports.0.containerPort must be <= 65535',
    ]);
  });

  it("a PodList's items need no kind; a list in a list, a non-Pod in a PodList and a List cut at items: are refused", () => {
    expect(
      all(
        'kind: PodList\napiVersion: v1\nitems:\n- metadata: {name: a}\n  spec: {containers: [{name: c, image: busybox}]}\n',
      ).names,
    ).toEqual(['Pod/a']);
    expect(all('kind: List\napiVersion: v1\nitems: []\n')).toEqual({ lines: [], names: [] });
    expect(all('kind: List\napiVersion: v1\nitems:\n').lines).toEqual([
      'p.yaml:1:7: ERR_MANIFEST_INVALID: a List needs items: a sequence of manifests (items: [] for none)',
    ]);
    expect(
      all('kind: List\napiVersion: v1\nitems:\n- {kind: List, apiVersion: v1, items: []}\n').lines,
    ).toEqual(['p.yaml:4:10: ERR_MANIFEST_KIND: items[0] is a List: a list inside a list is not read']);
    expect(
      all('kind: PodList\napiVersion: v1\nitems:\n- {kind: Secret, apiVersion: v1, metadata: {name: s}}\n')
        .lines,
    ).toEqual(['p.yaml:4:3: ERR_MANIFEST_KIND: items[0] of a PodList must be a v1 Pod']);
  });
});

describe('what a cluster refuses, refused at its node', () => {
  it('a volume name twice: the later one would have won (hostPath /etc behind an emptyDir)', () => {
    expect(
      check(`${head}  containers:
    - {name: app, image: busybox, volumeMounts: [{name: a, mountPath: /data}]}
  volumes:
    - {name: a, emptyDir: {}}
    - {name: a, hostPath: {path: /etc}}
`).lines,
    ).toEqual([
      'p.yaml:9:14: ERR_MANIFEST_INVALID: volume name "a" is used twice (a cluster rejects it too)',
    ]);
  });

  it('two mounts at one path, a hostPath with .., a host port twice, bad and repeated port names', () => {
    expect(
      check(`${head}  containers:
    - name: app
      image: busybox
      volumeMounts: [{name: a, mountPath: /data}, {name: b, mountPath: /data}]
      ports:
        - {containerPort: 80, hostPort: 8080, name: http_port_too_long}
        - {containerPort: 81, name: web}
        - {containerPort: 82, name: web}
    - name: two
      image: busybox
      ports: [{containerPort: 80, hostPort: 8080}]
  volumes:
    - {name: a, emptyDir: {}}
    - {name: b, hostPath: {path: /var/log/../../etc}}
`).lines,
    ).toEqual([
      'p.yaml:8:72: ERR_MANIFEST_INVALID: container app mounts two volumes at /data: the later would hide the earlier (a cluster rejects it too)',
      "p.yaml:10:53: ERR_MANIFEST_INVALID: port name \"http_port_too_long\" must be at most 15 lowercase letters, digits and '-', with a letter and no '--', as a cluster requires",
      'p.yaml:12:37: ERR_MANIFEST_INVALID: port name "web" is used twice in container app',
      'p.yaml:15:45: ERR_MANIFEST_INVALID: pod web publishes host port 0.0.0.0:8080/tcp twice (a cluster rejects it too)',
      "p.yaml:18:34: ERR_MANIFEST_INVALID: hostPath /var/log/../../etc must not contain '..' (a cluster rejects it too): write the path it means",
    ]);
  });

  it('a request over its limit, an ID past 2^31-1, a NUL in a string', () => {
    expect(
      check(`${head}  containers:
    - name: app
      image: busybox
      command: ["echo", "a\\0b"]
      resources: {limits: {cpu: 500m, memory: 64Mi}, requests: {cpu: "1", memory: 32Mi}}
`).lines,
    ).toEqual([
      'p.yaml:8:25: ERR_MANIFEST_INVALID: spec.containers.0.command.1 contains a NUL character',
      'p.yaml:9:70: ERR_MANIFEST_INVALID: cpu request 1 is more than its limit 500m (a cluster rejects it too)',
    ]);
    expect(
      check(`${head}  securityContext: {runAsUser: 4294967296}\n  containers: [{name: a, image: busybox}]\n`)
        .lines,
    ).toEqual(['p.yaml:5:32: ERR_MANIFEST_SCHEMA: spec.securityContext.runAsUser must be <= 2147483647']);
  });
});

describe('what Kubernetes refuses about networks, DNS and privileges, refused at the field (validate finds it)', () => {
  it('hostPort off the bridge, an unknown network, dnsPolicy None alone, addresses that only look like IPs, long searches', () => {
    const text = `${head}  hostNetwork: true
  containers:
    - {name: a, image: busybox, ports: [{containerPort: 80, hostPort: 81}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: b
  annotations: {berth.dev/network: host}
spec:
  dnsPolicy: None
  hostAliases: [{ip: ":::", hostnames: [x]}, {ip: "::ffff:10.0.0.1", hostnames: [z]}]
  containers: [{name: b, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata:
  name: c
  annotations: {berth.dev/network: none}
spec:
  dnsConfig: {searches: [${'a'.repeat(64)}.lan]}
  containers:
    - {name: c, image: busybox, ports: [{containerPort: 80, hostPort: 80}]}
`;
    expect(check(text).lines).toEqual([
      'p.yaml:7:71: ERR_MANIFEST_INVALID: container a: with hostNetwork, hostPort 81 must equal containerPort 80',
      'p.yaml:13:36: ERR_MANIFEST_INVALID: annotation berth.dev/network must be bridge or none, not "host" (hostNetwork: true for the host\'s)',
      'p.yaml:15:14: ERR_MANIFEST_INVALID: dnsPolicy None takes the pod its DNS from dnsConfig alone: give at least one dnsConfig.nameservers',
      'p.yaml:16:22: ERR_MANIFEST_INVALID: hostAliases ip ":::" is not an IP address',
      `p.yaml:25:26: ERR_MANIFEST_INVALID: search domain "${'a'.repeat(64)}.lan" has a label of 64 characters (at most 63)`,
      'p.yaml:27:71: ERR_MANIFEST_INVALID: container c: hostPort 80 needs the bridge network (berth.dev/network: none has only loopback)',
    ]);
  });

  it('allowPrivilegeEscalation: false beside privileged or CAP_SYS_ADMIN; a postStart hook on a plain init container', () => {
    expect(
      check(`${head}  initContainers:
    - {name: i, image: busybox, lifecycle: {postStart: {exec: {command: ["true"]}}}}
  containers: [{name: a, image: busybox}]
`).lines,
    ).toEqual([
      'p.yaml:6:44: ERR_MANIFEST_SCHEMA: spec.initContainers.0.lifecycle may be set on an init container only with restartPolicy: Always (a sidecar), as in Kubernetes',
    ]);
    const { lines } = check(`${head}  containers:
    - name: a
      image: busybox
      securityContext: {privileged: true, allowPrivilegeEscalation: false}
    - name: b
      image: busybox
      securityContext: {allowPrivilegeEscalation: false, capabilities: {add: [NET_ADMIN, CAP_SYS_ADMIN]}}
`);
    expect(lines.filter((l) => !l.includes('WARN_'))).toEqual([
      'p.yaml:8:69: ERR_MANIFEST_INVALID: container a: allowPrivilegeEscalation: false cannot be combined with privileged: true',
      'p.yaml:11:90: ERR_MANIFEST_INVALID: container b: allowPrivilegeEscalation: false cannot be combined with capabilities.add CAP_SYS_ADMIN',
    ]);
  });
});

describe('$(VAR) expansion is bounded', () => {
  it('a value doubling sixty times is an error naming it once past what Linux takes, not 2^60 bytes', () => {
    const vars = new Map<string, string>([['V0', 'x'.repeat(10)]]);
    for (let i = 1; i < 60; i++) {
      const lookup = (n: string) => vars.get(n);
      const value = () => expandVariables(`$(V${i - 1})$(V${i - 1})`, lookup, `env V${i}`);
      if (10 * 2 ** i <= MAX_EXPANDED) vars.set(`V${i}`, value());
      else {
        expect(value).toThrow(/^env V14: expanding \$\(V13\) makes it longer than 131072 characters/);
        break;
      }
    }
    expect(vars.get('V13')).toHaveLength(81920);
  });
});

describe("a cluster's own objects beside a pod (RBAC, a ServiceAccount, a Namespace, an Ingress) are warned, not the pod's file refused", () => {
  it('each is one WARN_KIND_IGNORED at its kind; the pods load; a workload kind is still an error', () => {
    const r = parseFile(
      `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: shop}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader}
subjects: [{kind: ServiceAccount, name: reader}]
roleRef: {kind: Role, name: reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader, namespace: shop}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec: {rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  serviceAccountName: reader
  containers: [{name: main, image: nginx}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
`,
      'p.yaml',
    );
    expect(r.parsed.map((p) => `${p.value.kind}/${p.value.metadata.name}`)).toEqual(['Pod/web']);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      'p.yaml:2:7: WARN_KIND_IGNORED: Namespace shop is ignored: a pod needs no Namespace object on one host: its metadata.namespace is enough',
      "p.yaml:6:7: WARN_KIND_IGNORED: Role reader is ignored: only a cluster's API server enforces RBAC",
      "p.yaml:11:7: WARN_KIND_IGNORED: RoleBinding reader is ignored: only a cluster's API server enforces RBAC",
      'p.yaml:17:7: WARN_KIND_IGNORED: ServiceAccount reader is ignored: there is no cluster API for a service account to talk to',
      "p.yaml:21:7: WARN_KIND_IGNORED: Ingress web is ignored: only a cluster's ingress controller routes it: publish a port with hostPort",
      'p.yaml:33:7: ERR_MANIFEST_KIND: apiVersion apps/v1, kind Deployment is not a kind berth runs (v1 Pod, ConfigMap, Secret, PersistentVolumeClaim, Service, and a v1 List or PodList of them; berth.dev/v1alpha1 Image)',
    ]);
  });

  it('as the items of a List too; an ignored kind with no name or a wrong apiVersion is no exception', () => {
    const r = parseFile(
      `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: a}}
- {apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {name: b}, spec: {minAvailable: 1}}
- {apiVersion: v1, kind: Pod, metadata: {name: c}, spec: {containers: [{name: m, image: nginx}]}}
- {apiVersion: v1, kind: ServiceAccount}
- {apiVersion: v2, kind: ServiceAccount, metadata: {name: d}}
`,
      'p.yaml',
    );
    expect(r.parsed.map((p) => `${p.value.kind}/${p.value.metadata.name}`)).toEqual(['Pod/c']);
    expect(r.diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`)).toEqual([
      '4:26 WARN_KIND_IGNORED',
      '5:33 WARN_KIND_IGNORED',
      '7:26 WARN_KIND_IGNORED',
      '8:26 ERR_MANIFEST_KIND',
    ]);
  });
});

describe("YAML 1.1 integers as Kubernetes reads them (go-yaml drops every '_', then takes 0b, 0o, 0x and a leading 0 as Go does)", () => {
  it('1_000, 0b…, 0_644 and -0x1F are the numbers a cluster sees, not strings', () => {
    const { lines, pod } = check(`${head}  terminationGracePeriodSeconds: 1_000
  securityContext: {runAsUser: 1_000_000, runAsGroup: 0b1111101000}
  containers:
  - name: main
    image: nginx
    ports: [{containerPort: 8_080, hostPort: 0x1F90}]
    volumeMounts: [{name: conf, mountPath: /etc/conf}]
    env: [{name: X, value: 1_000}]
  volumes: [{name: conf, configMap: {name: conf, defaultMode: 0_644}}]
`);
    expect(lines).toEqual([
      'p.yaml:12:28: WARN_MANIFEST_K8S_REJECTS: env value 1_000 is a number: a cluster rejects it (quote it: "1_000"); used as "1_000"',
    ]);
    expect(pod?.spec.terminationGracePeriodSeconds).toBe(1000);
    expect(pod?.spec.securityContext).toEqual({ runAsUser: 1_000_000, runAsGroup: 1000 });
    expect(pod?.spec.containers[0]?.ports).toEqual([{ containerPort: 8080, hostPort: 8080 }]);
    expect(pod?.spec.volumes?.[0]?.configMap?.defaultMode).toBe(0o644);
  });

  it("Go's other forms: 0X and 0O, a signed 0x, and what ParseInt refuses but ParseFloat takes (0_8, 1_e3)", () => {
    const { lines, pod } = check(`${head}  terminationGracePeriodSeconds: 0O17
  securityContext: {runAsUser: 0_8, runAsGroup: 1_e3}
  containers: [{name: main, image: nginx, ports: [{containerPort: 0X1F90, hostPort: +0x1F90}]}]
`);
    expect(lines).toEqual([]);
    expect(pod?.spec.terminationGracePeriodSeconds).toBe(15);
    expect(pod?.spec.securityContext).toEqual({ runAsUser: 8, runAsGroup: 1000 });
    expect(pod?.spec.containers[0]?.ports).toEqual([{ containerPort: 8080, hostPort: 8080 }]);
  });

  it('a hex, octal or binary number past 64 bits stays a string, as in Go', () => {
    const { lines } = check(`${head}  terminationGracePeriodSeconds: 0x1_0000_0000_0000_0000
  containers: [{name: main, image: nginx}]
`);
    expect(lines).toEqual([
      'p.yaml:5:34: ERR_MANIFEST_SCHEMA: spec.terminationGracePeriodSeconds must be integer',
    ]);
  });

  it('what go-yaml leaves a string stays one: a leading _, a letter, a float', () => {
    const { lines } = check(`${head}  terminationGracePeriodSeconds: _1000
  containers: [{name: main, image: nginx, ports: [{containerPort: 80x}]}]
`);
    expect(lines).toEqual([
      'p.yaml:5:34: ERR_MANIFEST_SCHEMA: spec.terminationGracePeriodSeconds must be integer',
      'p.yaml:6:67: ERR_MANIFEST_SCHEMA: spec.containers.0.ports.0.containerPort must be integer',
    ]);
  });
});

describe('a %YAML 1.1 directive changes nothing: Kubernetes reads every file one way (go-yaml)', () => {
  it('a date and 1:30 stay strings (no timestamp, no base 60), on is a boolean only at a boolean field, 0644 octal', () => {
    const { lines, pod } = check(`%YAML 1.1
---
${head}  containers:
  - name: main
    image: nginx
    tty: on
    args: [1:30, 2001-12-14]
    env: [{name: DAY, value: 2001-12-14}]
    volumeMounts: [{name: conf, mountPath: /etc/conf}]
  volumes: [{name: conf, configMap: {name: conf, defaultMode: 0644}}]
`);
    expect(lines).toEqual([]);
    const c = pod?.spec.containers[0];
    expect([c?.tty, c?.args, c?.env]).toEqual([
      true,
      ['1:30', '2001-12-14'],
      [{ name: 'DAY', value: '2001-12-14' }],
    ]);
    expect(pod?.spec.volumes?.[0]?.configMap?.defaultMode).toBe(0o644);
  });
});

describe('a long pod name (kubernetes hack/testdata/pod-with-large-name.yaml) is taken, as a cluster takes it', () => {
  it('64 characters is a DNS subdomain: no diagnostic; 254 is one, at the name', () => {
    const name = 'kubernetes-serve-hostname-testing-sixty-three-characters-in-length';
    const text = (n: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${n}
spec:
  containers: [{name: main, image: nginx}]
`;
    expect(check(text(name)).lines).toEqual([]);
    expect(check(text('a'.repeat(254))).lines).toEqual([
      'p.yaml:4:9: ERR_MANIFEST_SCHEMA: metadata.name must be at most 253 characters (a cluster rejects it too)',
    ]);
  });
});
