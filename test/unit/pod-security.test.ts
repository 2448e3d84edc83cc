// Security contexts from manifest to runtime config: what the host cannot honour is one error at its
// node; pod-level settings reach every container (the container's win); hostPID/hostIPC, sysctls,
// seccomp Unconfined, capabilities ALL and runAsNonRoot in the runtime config.
import { describe, expect, it } from 'vitest';
import { isBerthError } from '../../src/lib/errors.js';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import type { PodManifest } from '../../src/manifest/kinds.js';
import { parseFile } from '../../src/manifest/parse.js';
import { desiredPod } from '../../src/reconcile/desired.js';
import { ALL_CAPABILITIES } from '../../src/runtime/defaults.js';
import { checkNonRoot, withGroups } from '../../src/runtime/run-as.js';
import { buildRuntimeSpec, capabilities } from '../../src/runtime/spec.js';
import { TEST_HOST } from '../helpers/observed.js';

const pod = (spec: string, container = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n${spec}  containers:\n    - name: main\n      image: busybox\n${container}`;
const lines = (text: string) => parseFile(text, 'm.yaml').diagnostics.map(formatDiagnostic);

describe('security values the host cannot honour, or that make no sense', () => {
  it.each([
    [
      'hostUsers: false with hostNetwork',
      pod('  hostNetwork: true\n  hostUsers: false\n'),
      'm.yaml:6:14: ERR_MANIFEST_INVALID: hostUsers: false cannot be combined with hostNetwork: true',
    ],
    [
      'hostUsers: false with hostPID',
      pod('  hostUsers: false\n  hostPID: true\n'),
      'm.yaml:5:14: ERR_MANIFEST_INVALID: hostUsers: false cannot be combined with hostPID: true',
    ],
    [
      'hostUsers: false with hostIPC',
      pod('  hostUsers: false\n  hostIPC: true\n'),
      'm.yaml:5:14: ERR_MANIFEST_INVALID: hostUsers: false cannot be combined with hostIPC: true',
    ],
    [
      'a Localhost seccomp profile without its file',
      pod('  securityContext:\n    seccompProfile: {type: Localhost}\n'),
      'm.yaml:6:28: ERR_MANIFEST_INVALID: a Localhost seccomp profile needs localhostProfile (a file in <root>/seccomp/)',
    ],
    [
      'procMount Unmasked',
      pod('', '      securityContext: {procMount: Unmasked}\n'),
      'm.yaml:8:36: ERR_MANIFEST_UNSUPPORTED: spec.containers.0.securityContext.procMount: Unmasked needs a user namespace: set spec.hostUsers: false (as Kubernetes asks)',
    ],
    [
      'a host-wide sysctl',
      pod('  securityContext:\n    sysctls: [{name: kernel.hostname, value: x}]\n'),
      'm.yaml:6:22: ERR_MANIFEST_INVALID: sysctl kernel.hostname is not namespaced: a pod may set only namespaced sysctls (IPC ones, net.*)',
    ],
    [
      'a net sysctl with hostNetwork',
      pod(
        '  hostNetwork: true\n  securityContext:\n    sysctls: [{name: net.ipv4.ip_forward, value: "1"}]\n',
      ),
      "m.yaml:7:22: ERR_MANIFEST_INVALID: sysctl net.ipv4.ip_forward would set the host's network stack: the pod uses hostNetwork",
    ],
    [
      'an IPC sysctl with hostIPC',
      pod('  hostIPC: true\n  securityContext:\n    sysctls: [{name: kernel.shmmax, value: "1"}]\n'),
      "m.yaml:7:22: ERR_MANIFEST_INVALID: sysctl kernel.shmmax would set the host's IPC namespace: the pod uses hostIPC",
    ],
    [
      'an unknown capability',
      pod('', '      securityContext: {capabilities: {add: [FLY]}}\n'),
      'm.yaml:8:46: ERR_MANIFEST_INVALID: unknown capability "FLY"',
    ],
    [
      'a localhostProfile that climbs out',
      pod('  securityContext:\n    seccompProfile: {type: Localhost, localhostProfile: ../../etc/x}\n'),
      'm.yaml:6:57: ERR_MANIFEST_SCHEMA: spec.securityContext.seccompProfile.localhostProfile must be a relative path with no "..", "." or empty component',
    ],
  ])('%s is one error at its node', (_what, text, want) => {
    expect(lines(text)).toEqual([want]);
  });

  it('shareProcessNamespace is accepted; with hostPID it is one error at its node', () => {
    expect(lines(pod('  shareProcessNamespace: true\n'))).toEqual([]);
    expect(lines(pod('  hostPID: true\n  shareProcessNamespace: true\n'))).toEqual([
      'm.yaml:6:26: ERR_MANIFEST_INVALID: shareProcessNamespace and hostPID cannot both be true (Kubernetes rejects it): the pod would share the host PID namespace',
    ]);
  });
});

describe('security settings reach the runtime', () => {
  const text = pod(
    '  hostPID: true\n  hostIPC: true\n  securityContext:\n    runAsUser: 1000\n    runAsGroup: 1000\n    runAsNonRoot: true\n    fsGroup: 2000\n    supplementalGroups: [4000, 2000]\n    sysctls: [{name: net.ipv4.ping_group_range, value: "0 2147483647"}]\n    seccompProfile: {type: Unconfined}\n',
    '      securityContext: {runAsUser: 1001, capabilities: {drop: [ALL], add: [CAP_NET_BIND_SERVICE]}}\n',
  );

  it('pod-level settings are every container default; the container wins; fsGroup owns the emptyDirs', () => {
    const r = parseFile(`${text}  volumes: [{name: data}]\n`, 'm.yaml');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      'm.yaml:18:76: WARN_MANIFEST_K8S_REJECTS: capability CAP_NET_BIND_SERVICE: a cluster rejects the CAP_ prefix (write NET_BIND_SERVICE); used as NET_BIND_SERVICE',
    ]);
    const d = desiredPod(r.parsed[0]?.value as PodManifest, 'm.yaml', TEST_HOST);
    const s = d.containers[0]?.settings;
    expect({
      user: s?.user,
      gid: s?.gid,
      runAsNonRoot: s?.runAsNonRoot,
      groups: s?.supplementalGroups,
      hostPID: s?.hostPID,
      hostIPC: s?.hostIPC,
      sysctls: s?.sysctls,
      seccomp: s?.seccomp,
    }).toEqual({
      user: '1001',
      gid: 1000,
      runAsNonRoot: true,
      groups: [4000, 2000],
      hostPID: true,
      hostIPC: true,
      sysctls: { 'net.ipv4.ping_group_range': '0 2147483647' },
      seccomp: 'unconfined',
    });
    expect(d.podDirs).toEqual([{ path: '/r/pods/p/volumes/data', memory: false, fsGroup: 2000 }]);
  });

  it('a sysctl with no value loads and is set to "" (Sysctl.Value is a plain string: a cluster takes it)', () => {
    const r = parseFile(
      pod('  securityContext:\n    sysctls: [{name: net.ipv4.tcp_syncookies}]\n'),
      'm.yaml',
    );
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const s = desiredPod(r.parsed[0]?.value as PodManifest, 'm.yaml', TEST_HOST).containers[0]?.settings;
    expect(s?.sysctls).toEqual({ 'net.ipv4.tcp_syncookies': '' });
  });

  it('a pod without security settings has none (its spec hash is what it was)', () => {
    const r = parseFile(pod(''), 'm.yaml');
    const s = desiredPod(r.parsed[0]?.value as PodManifest, 'm.yaml', TEST_HOST).containers[0]?.settings;
    expect(Object.keys(s ?? {}).sort()).toEqual([
      'capAdd',
      'capDrop',
      'dns',
      'env',
      'hostname',
      'hostsFile',
      'mounts',
      'name',
      'netnsPath',
      'network',
      'privileged',
      'readOnly',
    ]);
  });

  const host = {
    nofileHard: 20000,
    hostname: '/b/hostname',
    etcHosts: '/b/hosts',
    resolvConf: '/b/resolv.conf',
    cgroupsPath: '/berth/abc',
    seccomp: { defaultAction: 'SCMP_ACT_ERRNO' },
  };
  const user = { uid: 1000, gid: 1000, additionalGids: [], home: '/' };
  const image = { config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers' as const, diff_ids: [] } };
  type Spec = { linux: { namespaces: Array<{ type: string }>; sysctl?: object; seccomp?: object } };

  it('hostPID/hostIPC leave out those namespaces; sysctls and Unconfined reach the config', () => {
    const own = buildRuntimeSpec(image, { name: 'w' }, user, host) as Spec;
    expect(own.linux.namespaces.map((n) => n.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'network']);
    expect(own.linux.seccomp).toEqual(host.seccomp);
    const shared = buildRuntimeSpec(
      image,
      { name: 'w', hostPID: true, hostIPC: true, sysctls: { 'kernel.shmmax': '1' }, seccomp: 'unconfined' },
      user,
      host,
    ) as Spec;
    expect(shared.linux.namespaces.map((n) => n.type)).toEqual(['uts', 'mount', 'network']);
    expect(shared.linux.sysctl).toEqual({ 'kernel.shmmax': '1' });
    expect(shared.linux.seccomp).toBeUndefined();
  });

  it('capabilities: drop ALL keeps only what is added; add ALL is every one', () => {
    expect(capabilities({ name: 'x', capDrop: ['ALL'], capAdd: ['CAP_NET_BIND_SERVICE'] })).toEqual([
      'CAP_NET_BIND_SERVICE',
    ]);
    expect(capabilities({ name: 'x', capDrop: ['all'] })).toEqual([]);
    expect(capabilities({ name: 'x', capAdd: ['ALL'], capDrop: ['SYS_ADMIN'] })).toEqual(
      ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_ADMIN'),
    );
  });

  it('runAsNonRoot beside runAsUser 0 loads, as a cluster takes it, and only that container is refused at its create (ERR_RUN_AS_ROOT)', () => {
    const text = pod(
      '  securityContext: {runAsNonRoot: true}\n',
      '      securityContext: {runAsUser: 0}\n    - name: other\n      image: busybox\n',
    );
    const r = parseFile(text, 'm.yaml');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const built = desiredPod(r.parsed[0]?.value as PodManifest, 'm.yaml', TEST_HOST);
    const [main, other] = built.containers.map((c) => c.settings);
    expect([main?.user, main?.runAsNonRoot, other?.user, other?.runAsNonRoot]).toEqual([
      '0',
      true,
      undefined,
      true,
    ]);
    const root = { uid: 0, gid: 0, additionalGids: [], home: '/root' };
    expect(() => checkNonRoot(root, main ?? { name: 'x' })).toThrow(
      'container p_main: runAsNonRoot is set and it would run as root (uid 0, from runAsUser)',
    );
  });

  it('runAsNonRoot refuses uid 0 after the image user is resolved; extra groups are added once', () => {
    const root = { uid: 0, gid: 0, additionalGids: [10], home: '/root' };
    let code = 'no error';
    try {
      checkNonRoot(root, { name: 'p_main', runAsNonRoot: true });
    } catch (err) {
      code = isBerthError(err) ? err.code : String(err);
    }
    expect(code).toBe('ERR_RUN_AS_ROOT');
    expect(() => checkNonRoot({ ...root, uid: 5 }, { name: 'p_main', runAsNonRoot: true })).not.toThrow();
    expect(withGroups(root, { name: 'x', supplementalGroups: [10, 2000] }).additionalGids).toEqual([
      10, 2000,
    ]);
  });
});
