// Requests and emptyDir size limits: a cpu request becomes CPU shares (Kubernetes' formula), a memory
// request a memory reservation (never above the limit); a Memory emptyDir's sizeLimit is its tmpfs
// size; on disk a sizeLimit is accepted with a warning that says it is not enforced and how to get
// a hard limit.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import type { PodManifest } from '../../src/manifest/kinds.js';
import { parseFile } from '../../src/manifest/parse.js';
import { cpuSharesOf } from '../../src/manifest/requests.js';
import { desiredPod } from '../../src/reconcile/desired.js';
import { buildRuntimeSpec } from '../../src/runtime/spec.js';
import { TEST_HOST } from '../helpers/observed.js';

const text = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: main
      image: busybox
      resources:
        requests: {cpu: 250m, memory: 16Mi}
        limits: {memory: 32Mi}
  volumes:
    - {name: fast, emptyDir: {medium: Memory, sizeLimit: 16Mi}}
    - {name: slow, emptyDir: {sizeLimit: 1Gi}}
`;

describe('requests and size limits', () => {
  it('become CPU shares, a memory reservation, a tmpfs size; a disk sizeLimit is a warning', () => {
    const r = parseFile(text, 'm.yaml');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      "m.yaml:13:42: WARN_EMPTYDIR_SIZE_NOT_ENFORCED: emptyDir slow: sizeLimit is not enforced on disk (a kubelet evicts the pod past it; berth does not evict): use medium: Memory for a hard limit (a tmpfs of that size, counted in the pod's memory)",
    ]);
    const pod = desiredPod(r.parsed[0]?.value as PodManifest, 'm.yaml', TEST_HOST);
    expect(pod.containers[0]?.settings.resources).toEqual({
      memoryBytes: 32 * 2 ** 20,
      cpuShares: 256,
      memoryReservationBytes: 16 * 2 ** 20,
    });
    expect(pod.podDirs).toEqual([
      { path: '/r/pods/p/volumes/fast', memory: true, sizeBytes: 16 * 2 ** 20 },
      { path: '/r/pods/p/volumes/slow', memory: false },
    ]);
    const settings = pod.containers[0]?.settings ?? { name: 'x' };
    const specOf = (s: typeof settings) =>
      buildRuntimeSpec(
        { config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [] } },
        s,
        { uid: 0, gid: 0, additionalGids: [], home: '/' },
        { nofileHard: 1024, hostname: '/h', etcHosts: '/e', resolvConf: '/r', cgroupsPath: '/c' },
      ) as { linux: { resources: { memory: object; cpu: object } } };
    const spec = specOf(settings);
    expect(spec.linux.resources.memory).toEqual({
      limit: 32 * 2 ** 20,
      swap: 32 * 2 ** 20,
      reservation: 16 * 2 ** 20,
    });
    expect(spec.linux.resources.cpu).toEqual({ shares: 256 });
    // A reservation above the limit (a manifest refuses it; the spec holds anyway) is kept under it:
    // the kernel would refuse memory.low above memory.max.
    const over = specOf({
      ...settings,
      resources: { ...settings.resources, memoryReservationBytes: 64 * 2 ** 20 },
    });
    expect(over.linux.resources.memory).toMatchObject({ reservation: 32 * 2 ** 20 });
  });

  it('a sizeLimit of 0 is none, as the kubelet reads it: a tmpfs of the default size, no warning on disk', () => {
    const zero = text
      .replace('sizeLimit: 16Mi', 'sizeLimit: 0')
      .replace('sizeLimit: 1Gi', 'sizeLimit: "0Gi"');
    const r = parseFile(zero, 'm.yaml');
    expect(r.diagnostics).toEqual([]);
    const pod = desiredPod(r.parsed[0]?.value as PodManifest, 'm.yaml', TEST_HOST);
    expect(pod.podDirs).toEqual([
      { path: '/r/pods/p/volumes/fast', memory: true },
      { path: '/r/pods/p/volumes/slow', memory: false },
    ]);
  });

  it.each([
    ['1m', 2],
    ['1', 1024],
    ['0.5', 512],
    ['1000', 262144],
  ])('cpu request %s is %i shares', (cpu, shares) => {
    expect(cpuSharesOf(cpu)).toBe(shares);
  });
});
