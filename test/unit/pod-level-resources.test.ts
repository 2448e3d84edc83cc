// Pod-level resources (spec.resources, Kubernetes 1.34 PodLevelResources): validated as Kubernetes
// validates them, each problem one line naming the file and field; the pod's cgroup settings and
// its containers' defaults as KEP 2837 gives them; the pod cgroup's files on cgroup v1 and v2.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import type { PodManifest } from '../../src/manifest/kinds.js';
import { parseFile } from '../../src/manifest/parse.js';
import { desiredPod } from '../../src/reconcile/desired.js';
import { resourceValue } from '../../src/reconcile/downward.js';
import { containerCgroupPath, podCgroupName } from '../../src/runtime/cgroups.js';
import { v1Files, v2Files, weightOf } from '../../src/runtime/pod-cgroup.js';
import { TEST_HOST } from '../helpers/observed.js';

const pod = (resources: string, containers = '  - name: main\n    image: busybox\n', init = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  resources:\n${resources}${init}  containers:\n${containers}`;
const lines = (text: string) => parseFile(text, 'm.yaml').diagnostics.map(formatDiagnostic);
const desired = (text: string) => {
  const r = parseFile(text, 'm.yaml');
  expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
  return desiredPod(r.parsed[0]?.value as PodManifest, 'm.yaml', TEST_HOST);
};

describe('spec.resources checked as Kubernetes checks it', () => {
  it.each([
    [
      'cpu and memory limits and requests',
      pod('    limits: {cpu: "1", memory: 200Mi}\n    requests: {cpu: 500m, memory: 100Mi}\n'),
      [],
    ],
    [
      'a hugepages limit: valid, ignored with a warning',
      pod('    limits: {memory: 64Mi, hugepages-2Mi: 4Mi}\n'),
      [
        "m.yaml:6:43: WARN_MANIFEST_IGNORED: spec.resources.limits.hugepages-2Mi is ignored: berth limits a pod's cpu and memory only (no hugepages)",
      ],
    ],
    [
      'a resource Kubernetes 1.34 does not take at pod level',
      pod('    limits: {ephemeral-storage: 1Gi}\n'),
      [
        'm.yaml:6:33: ERR_MANIFEST_UNSUPPORTED: spec.resources.limits.ephemeral-storage: berth takes cpu, memory and hugepages-<size> at pod level, as Kubernetes 1.34 admits them',
      ],
    ],
    [
      'a request above the limit',
      pod('    limits: {memory: 64Mi}\n    requests: {memory: 128Mi}\n'),
      [
        "m.yaml:7:24: ERR_MANIFEST_INVALID: spec.resources.requests.memory 128Mi is more than the pod's limit 64Mi (a cluster rejects it too)",
      ],
    ],
    [
      "containers' requests above the pod's request",
      pod(
        '    requests: {cpu: 500m}\n',
        '  - name: a\n    image: busybox\n    resources: {requests: {cpu: 300m}}\n  - name: b\n    image: busybox\n    resources: {limits: {cpu: 300m}}\n',
      ),
      [
        "m.yaml:6:21: ERR_MANIFEST_INVALID: spec.resources.requests.cpu 500m is less than its containers' requests together (600m) (a cluster rejects it too)",
      ],
    ],
    [
      "containers' requests above the pod's limit (no pod request)",
      pod(
        '    limits: {memory: 64Mi}\n',
        '  - name: a\n    image: busybox\n    resources: {requests: {memory: 100Mi}}\n',
      ),
      [
        "m.yaml:6:22: ERR_MANIFEST_INVALID: spec.resources.limits.memory 64Mi is less than its containers' requests together (104857600 bytes) (a cluster rejects it too)",
      ],
    ],
    [
      "a container's limit above the pod's",
      pod(
        '    limits: {cpu: "1"}\n',
        '  - name: a\n    image: busybox\n    resources: {limits: {cpu: "2"}}\n',
      ),
      [
        "m.yaml:6:19: ERR_MANIFEST_INVALID: spec.resources.limits.cpu 1 is less than its containers' requests together (2000m) (a cluster rejects it too)",
        "m.yaml:10:31: ERR_MANIFEST_INVALID: container a: cpu limit 2 is more than the pod's limit 1 (a cluster rejects it too)",
      ],
    ],
    [
      'a memory limit the host cannot start a container under',
      pod('    limits: {memory: 1Mi}\n'),
      [
        `m.yaml:6:22: ERR_BAD_QUANTITY: spec.resources.limits.memory: memory limit "1Mi" is 1048576 byte(s): below berth's floor of 6Mi (runc itself needs about 3 MiB to start a container)`,
      ],
    ],
    [
      'claims: a cluster only',
      pod('    claims: [{name: gpu}]\n'),
      [
        'm.yaml:6:5: ERR_MANIFEST_UNSUPPORTED: field spec.resources.claims is not supported by berth: dynamic resource allocation needs a cluster',
      ],
    ],
  ])('%s', (_name, text, expected) => {
    expect(lines(text)).toEqual(expected);
  });

  it('sidecars count with the app containers, an init container with the sidecars before it (KEP 753)', () => {
    const init =
      '  initContainers:\n  - name: side\n    image: busybox\n    restartPolicy: Always\n    resources: {requests: {cpu: 200m}}\n  - name: setup\n    image: busybox\n    resources: {requests: {cpu: 900m}}\n';
    const main = '  - name: main\n    image: busybox\n    resources: {requests: {cpu: 500m}}\n';
    // max(500m + 200m, 900m + 200m) = 1100m
    expect(lines(pod('    requests: {cpu: "1"}\n', main, init))).toEqual([
      "m.yaml:6:21: ERR_MANIFEST_INVALID: spec.resources.requests.cpu 1 is less than its containers' requests together (1100m) (a cluster rejects it too)",
    ]);
    expect(lines(pod('    requests: {cpu: 1100m}\n', main, init))).toEqual([]);
  });
});

describe('the pod cgroup and its containers', () => {
  it('pod limits go to the pod cgroup; a container without its own gets them, and the least cpu weight', () => {
    const d = desired(
      pod(
        '    limits: {cpu: 500m, memory: 64Mi}\n',
        '  - name: a\n    image: busybox\n  - name: b\n    image: busybox\n    resources: {limits: {memory: 32Mi}, requests: {cpu: 100m}}\n',
      ),
    );
    const name = podCgroupName('/r/pods/p');
    // The pod's requests are its containers' together (b's cpu request, b's memory limit as its
    // request) since one has some; the pod limits bound every container that has none of its own.
    const podCgroup = {
      name,
      resources: {
        memoryBytes: 64 * 2 ** 20,
        milliCpus: 500,
        cpuShares: 102,
        memoryReservationBytes: 32 * 2 ** 20,
      },
    };
    expect(d.containers.map((c) => [c.name, c.settings.resources, c.settings.podCgroup])).toEqual([
      ['a', { memoryBytes: 64 * 2 ** 20, milliCpus: 500, cpuShares: 2 }, podCgroup],
      ['b', { memoryBytes: 32 * 2 ** 20, milliCpus: 500, cpuShares: 102 }, podCgroup],
    ]);
    // A cpu limit of its own and no request: its request is its limit (as a cluster defaults it).
    const limited = desired(
      pod(
        '    limits: {cpu: 500m}\n',
        '  - name: a\n    image: busybox\n    resources: {limits: {cpu: 250m}}\n',
      ),
    );
    expect(limited.containers[0]?.settings.resources).toEqual({ milliCpus: 250, cpuShares: 256 });
    // No container asks for anything: the pod's requests are its limits (KEP 2837 row 5).
    const bare = desired(pod('    limits: {cpu: 500m, memory: 64Mi}\n')).containers[0]?.settings.podCgroup;
    expect(bare?.resources).toEqual({
      memoryBytes: 64 * 2 ** 20,
      milliCpus: 500,
      cpuShares: 512,
      memoryReservationBytes: 64 * 2 ** 20,
    });
    expect(containerCgroupPath('0123456789abcdef0123456789abcdef', name)).toBe(
      `/berth/${name}/0123456789abcdef0123456789abcdef`,
    );
  });

  it("an init container's limit above the pod's is held to the pod's in its cgroup", () => {
    // Valid for a cluster: only app containers' limits are checked against the pod's.
    const init =
      '  initContainers:\n  - name: setup\n    image: busybox\n    resources: {requests: {cpu: 100m, memory: 8Mi}, limits: {cpu: "2", memory: 1Gi}}\n';
    const d = desired(pod('    limits: {cpu: 500m, memory: 64Mi}\n', undefined, init));
    expect(d.initContainers[0]?.settings.resources).toEqual({
      milliCpus: 500,
      memoryBytes: 64 * 2 ** 20,
      cpuShares: 102,
      memoryReservationBytes: 8 * 2 ** 20,
    });
  });

  it('a pod without spec.resources has no pod cgroup and its containers keep their settings', () => {
    const d = desired(
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: busybox\n',
    );
    expect(d.containers[0]?.settings.podCgroup).toBeUndefined();
    expect(d.containers[0]?.settings.resources).toBeUndefined();
  });

  it('one pod name under two roots: two pod cgroups', () => {
    expect(podCgroupName('/a/pods/p')).not.toBe(podCgroupName('/b/pods/p'));
    expect(podCgroupName('/a/pods/p')).toMatch(/^pod-[a-f0-9]{32}$/);
  });

  it("the downward API's limits of a container without its own are the pod's", () => {
    const p = parseFile(pod('    limits: {memory: 64Mi}\n'), 'm.yaml').parsed[0]?.value as PodManifest;
    const c = p.spec.containers[0] as PodManifest['spec']['containers'][0];
    const node = { name: 'h', ip: '', milliCpus: 2000, memoryBytes: 2 ** 33 };
    expect(resourceValue({ resource: 'limits.memory' }, c, node, p)).toBe(String(64 * 2 ** 20));
    expect(resourceValue({ resource: 'limits.cpu', divisor: '1m' }, c, node, p)).toBe('2000');
    expect(resourceValue({ resource: 'requests.memory' }, c, node, p)).toBe('0');
  });

  it('cgroup v1 and v2 files, unset values as the kernel says none', () => {
    const r = { memoryBytes: 64 * 2 ** 20, milliCpus: 250, cpuShares: 256 };
    expect(v1Files(r).map((f) => `${f.file}=${f.value}`)).toEqual([
      'cpu.cfs_period_us=100000',
      'cpu.cfs_quota_us=25000',
      'cpu.shares=256',
      'memory.memsw.limit_in_bytes=-1',
      'memory.limit_in_bytes=67108864',
      'memory.memsw.limit_in_bytes=67108864',
      'memory.soft_limit_in_bytes=-1',
    ]);
    expect(v2Files(r).map((f) => `${f.file}=${f.value}`)).toEqual([
      'cpu.max=25000 100000',
      `cpu.weight=${weightOf(256)}`,
      'memory.max=67108864',
      'memory.swap.max=0',
      'memory.low=0',
    ]);
    expect(v2Files({}).map((f) => `${f.file}=${f.value}`)).toEqual([
      'cpu.max=max 100000',
      'cpu.weight=100',
      'memory.max=max',
      'memory.swap.max=max',
      'memory.low=0',
    ]);
    expect([weightOf(2), weightOf(1024), weightOf(262144)]).toEqual([1, 39, 10000]);
  });
});
