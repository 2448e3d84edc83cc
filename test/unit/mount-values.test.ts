// Mount values: subPathExpr expanded from the container's env (and the pod address marker filled
// into it), mountPropagation as bind options and the root's propagation, and which host mounts can
// carry which propagation, read from mountinfo text.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import type { PodManifest } from '../../src/manifest/kinds.js';
import { parseFile } from '../../src/manifest/parse.js';
import { desiredPod } from '../../src/reconcile/desired.js';
import { POD_IP_MARKER } from '../../src/reconcile/downward.js';
import { expandSubPath, propagationOf } from '../../src/reconcile/mount-values.js';
import { needsPodAddress, withPodAddress } from '../../src/reconcile/pod-address.js';
import { hostPropagationOf, propagationProblem } from '../../src/runtime/mount-propagation.js';
import {
  buildRuntimeSpec,
  type ContainerMount,
  type HostFacts,
  kernelHasRecursiveReadOnly,
} from '../../src/runtime/spec.js';
import { TEST_HOST } from '../helpers/observed.js';

/** The runtime spec of a busybox-like image with only these mounts, on a host with these facts. */
const specWith = (mounts: ContainerMount[], host: Partial<HostFacts> = {}) =>
  buildRuntimeSpec(
    { config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [] } },
    { name: 'x', mounts },
    { uid: 0, gid: 0, additionalGids: [], home: '/' },
    { nofileHard: 1024, hostname: '/h', etcHosts: '/e', resolvConf: '/r', cgroupsPath: '/c', ...host },
  ) as { mounts: Array<{ destination: string; options: string[] }>; linux: { rootfsPropagation?: string } };

const MOUNTINFO = [
  '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
  '30 27 254:0 /srv /srv rw,relatime shared:5 - ext4 /dev/vda rw',
  '31 30 0:40 / /srv/private rw,relatime - tmpfs tmpfs rw',
  '32 27 0:41 / /mnt/with\\040space rw,relatime master:7 - tmpfs tmpfs rw',
  '33 30 0:42 / /srv/over rw - tmpfs tmpfs rw',
  '34 30 0:43 / /srv/over rw shared:9 - tmpfs tmpfs rw',
].join('\n');

describe('subPathExpr', () => {
  it("expands $(VAR) from the container's env with Kubernetes' rules: $$ escapes; cleaned as the kubelet joins it", () => {
    const env = ['POD_NAME=web-1', 'EMPTY=', 'EQ=a=b', 'DOT=.'];
    expect(expandSubPath('logs/$(POD_NAME)', env)).toBe('logs/web-1');
    expect(expandSubPath('$(EQ)/x', env)).toBe('a=b/x');
    expect(expandSubPath('$$(POD_NAME)/x', env)).toBe('$(POD_NAME)/x');
    expect(expandSubPath('a//$(POD_NAME)/', env)).toBe('a/web-1');
    expect(expandSubPath('$(DOT)', env)).toBe(''); // the volume itself, as filepath.Join makes it
  });

  it('leaves the expression as written while the env waits for an object (the pod waits; never the whole volume)', () => {
    expect(expandSubPath('$(EMPTY)', ['EMPTY='], true)).toBe('$(EMPTY)');
    expect(expandSubPath('logs/$(NOPE)', [], true)).toBe('logs/$(NOPE)');
    expect(expandSubPath('logs/$(POD)', ['POD=web'], true)).toBe('logs/web');
  });

  it('refuses a name the env lacks or gives empty, as the kubelet does (expanded to nothing it was the whole volume)', () => {
    const env = ['POD_NAME=web-1', 'EMPTY='];
    for (const [expr, names] of [
      ['$(EMPTY)', 'EMPTY'],
      ['$(POD_NAME)/$(NOPE)', 'NOPE'],
      ['$(EMPTY)x/$(NOPE)', 'EMPTY, NOPE'],
    ])
      expect(() => expandSubPath(expr as string, env), expr).toThrow(
        expect.objectContaining({
          code: 'ERR_SUBPATH_UNSAFE',
          message: expect.stringContaining(`missing value for ${names}`),
        }),
      );
  });

  it("refuses an expansion that leaves the volume (a value '..', '../x', '/etc' or with a NUL), as the kubelet's makeMounts does", () => {
    for (const [expr, value] of [
      ['./$(X)', '..'],
      ['./$(X)', '../x'],
      ['./$(X)', 'a/../..'],
      ['$(X)', '/etc'],
      ['./$(X)', 'a\0b'],
    ] as const)
      expect(() => expandSubPath(expr, [`X=${value}`]), JSON.stringify(value)).toThrow(
        expect.objectContaining({
          code: 'ERR_SUBPATH_UNSAFE',
          message: expect.stringContaining('expands to'),
        }),
      );
    expect(() => expandSubPath('$(X)/y', ['X=..'])).toThrow(
      expect.objectContaining({ code: 'ERR_SUBPATH_UNSAFE' }),
    );
    // `.//etc` is no absolute path: the kubelet joins it to the volume, as berth does.
    expect(expandSubPath('./$(X)', ['X=/etc'])).toBe('etc');
    // A line break is a character of a name like any other: one component, inside the volume.
    expect(expandSubPath('./$(X)', ['X=a\nb'])).toBe('a\nb');
    expect(expandSubPath('./$(X)/..x', ['X=..a'])).toBe('..a/..x');
    expect(() => expandSubPath('./$(NOPE)', [])).toThrow(
      expect.objectContaining({ code: 'ERR_SUBPATH_UNSAFE' }),
    );
  });

  it("a subPathExpr is checked before expansion as the API checks it: './$(X)' and 'a//$(X)/' are relative paths, '..' and '/' are refused", () => {
    const withExpr = (expr: string) => `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: main
      image: busybox
      env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
      volumeMounts: [{name: h, mountPath: /a, subPathExpr: ${JSON.stringify(expr)}}]
  volumes: [{name: h, emptyDir: {}}]
`;
    const subPathOf = (expr: string) => {
      const r = parseFile(withExpr(expr), 'm.yaml');
      expect(r.diagnostics.map(formatDiagnostic), expr).toEqual([]);
      return desiredPod(r.parsed[0]?.value as PodManifest, 'm.yaml', TEST_HOST).containers[0]?.settings
        .mounts?.[0]?.subPath;
    };
    expect(['./$(POD_NAME)', 'a//$(POD_NAME)/', './logs/./$(POD_NAME)'].map(subPathOf)).toEqual([
      'p',
      'a/p',
      'logs/p',
    ]);
    for (const expr of ['../$(POD_NAME)', '$(POD_NAME)/..', 'a/../$(POD_NAME)', '/$(POD_NAME)'])
      expect(
        parseFile(withExpr(expr), 'm.yaml').diagnostics.map((d) => d.code),
        expr,
      ).toEqual(['ERR_MANIFEST_SCHEMA']);
  });

  it('a pod address from $(VAR) is filled into the subPath like env, command and args', () => {
    const settings = {
      name: 'c',
      mounts: [
        {
          kind: 'bind' as const,
          source: '/s',
          destination: '/d',
          readOnly: false,
          subPath: `ip-${POD_IP_MARKER}`,
        },
        { kind: 'bind' as const, source: '/s', destination: '/e', readOnly: false },
      ],
    };
    expect(needsPodAddress(settings)).toBe(true);
    expect(withPodAddress(settings, '10.1.2.3').mounts?.map((m) => m.subPath)).toEqual([
      'ip-10.1.2.3',
      undefined,
    ]);
    expect(needsPodAddress({ name: 'c', mounts: [settings.mounts[1] as (typeof settings.mounts)[1]] })).toBe(
      false,
    );
  });
});

describe('mountPropagation', () => {
  it('maps Kubernetes names to bind options; None is private', () => {
    expect([
      propagationOf('HostToContainer'),
      propagationOf('Bidirectional'),
      propagationOf('None'),
      propagationOf(undefined),
    ]).toEqual(['rslave', 'rshared', undefined, undefined]);
  });

  it('finds the mount that holds a path: the longest mount point, the last one stacked there, escapes decoded', () => {
    expect(hostPropagationOf(MOUNTINFO, '/srv/data/x')).toBe('shared');
    expect(hostPropagationOf(MOUNTINFO, '/srv')).toBe('shared');
    expect(hostPropagationOf(MOUNTINFO, '/srv/private/x')).toBe('private');
    expect(hostPropagationOf(MOUNTINFO, '/srvother')).toBe('private'); // `/` holds it, not /srv
    expect(hostPropagationOf(MOUNTINFO, '/mnt/with space/y')).toBe('slave');
    expect(hostPropagationOf(MOUNTINFO, '/srv/over/z')).toBe('shared');
    expect(hostPropagationOf('', '/x')).toBe('private');
  });

  it('HostToContainer needs shared or slave, Bidirectional shared; the error says how to fix it', () => {
    expect(propagationProblem('/p', 'rslave', 'shared')).toBeUndefined();
    expect(propagationProblem('/p', 'rslave', 'slave')).toBeUndefined();
    expect(propagationProblem('/p', 'rshared', 'shared')).toBeUndefined();
    expect(propagationProblem('/p', 'rshared', 'slave')).toBe(
      'Bidirectional mount propagation needs /p on a shared mount; it is on a slave one (make it shared: mount --bind /p /p && mount --make-rshared /p)',
    );
    expect(propagationProblem('/p', 'rslave', 'private')).toBe(
      'HostToContainer mount propagation needs /p on a shared or slave mount; it is on a private one (make it shared: mount --bind /p /p && mount --make-rshared /p)',
    );
  });
});

describe('a pod with mount values, as the runtime gets it', () => {
  const text = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: main
      image: busybox
      securityContext: {privileged: true}
      env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
      volumeMounts:
        - {name: h, mountPath: /a, subPathExpr: "$(POD_NAME)/logs", mountPropagation: HostToContainer}
        - {name: h, mountPath: /b, mountPropagation: Bidirectional}
        - {name: h, mountPath: /c}
  volumes: [{name: h, hostPath: {path: /srv}}]
`;
  it('has the subPath expanded, each propagation as its bind option, and a shared root for Bidirectional', () => {
    const r = parseFile(text, 'm.yaml');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const settings = desiredPod(r.parsed[0]?.value as PodManifest, 'm.yaml', TEST_HOST).containers[0]
      ?.settings;
    expect(settings?.mounts).toEqual([
      {
        kind: 'bind',
        source: '/srv',
        destination: '/a',
        readOnly: false,
        subPath: 'p/logs',
        propagation: 'rslave',
      },
      { kind: 'bind', source: '/srv', destination: '/b', readOnly: false, propagation: 'rshared' },
      { kind: 'bind', source: '/srv', destination: '/c', readOnly: false },
    ]);
    const staged = (settings?.mounts ?? []).map(({ subPath, ...m }) => m); // create.ts stages subPaths
    const spec = (mounts: typeof staged) => specWith(mounts);
    const all = spec(staged);
    expect(
      all.mounts.filter((m) => ['/a', '/b', '/c'].includes(m.destination)).map((m) => m.options),
    ).toEqual([
      ['rbind', 'rslave', 'rw'],
      ['rbind', 'rshared', 'rw'],
      ['rbind', 'rprivate', 'rw'],
    ]);
    expect(all.linux.rootfsPropagation).toBe('rshared');
    expect(spec(staged.filter((m) => m.destination !== '/b')).linux.rootfsPropagation).toBeUndefined();
  });
});

describe('recursiveReadOnly', () => {
  it('needs readOnly and no propagation, Enabled and IfPossible alike, as Kubernetes validates it (validateMountRecursiveReadOnly)', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: main
      image: busybox
      volumeMounts:
        - {name: h, mountPath: /a, recursiveReadOnly: IfPossible}
        - {name: h, mountPath: /b, readOnly: true, recursiveReadOnly: Enabled, mountPropagation: HostToContainer}
        - {name: h, mountPath: /c, readOnly: true, recursiveReadOnly: IfPossible, mountPropagation: HostToContainer}
        - {name: h, mountPath: /d, recursiveReadOnly: Disabled}
  volumes: [{name: h, hostPath: {path: /srv}}]
`;
    expect(parseFile(text, 'm.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      'm.yaml:9:55: ERR_MANIFEST_INVALID: volume mount /a: recursiveReadOnly IfPossible needs readOnly: true (as in Kubernetes)',
      'm.yaml:10:71: ERR_MANIFEST_INVALID: volume mount /b: recursiveReadOnly Enabled needs mountPropagation None (as in Kubernetes)',
      'm.yaml:11:71: ERR_MANIFEST_INVALID: volume mount /c: recursiveReadOnly IfPossible needs mountPropagation None (as in Kubernetes)',
    ]);
  });

  it('IfPossible is recursive where the kernel has mount_setattr (5.12+); Enabled always', () => {
    expect(
      ['5.11.0', '5.12.1-amd64', '6.1.0-18-amd64', '4.19.0', '6.18.44-fc-v657'].map(
        kernelHasRecursiveReadOnly,
      ),
    ).toEqual([false, true, true, false, true]);
    const options = (rro: 'required' | 'if-possible', can: boolean) =>
      specWith([{ kind: 'bind', source: '/s', destination: '/d', readOnly: true, recursiveReadOnly: rro }], {
        recursiveReadOnly: can,
      }).mounts.find((m) => m.destination === '/d')?.options;
    expect(options('if-possible', true)).toEqual(['rbind', 'rprivate', 'ro', 'rro']);
    expect(options('if-possible', false)).toEqual(['rbind', 'rprivate', 'ro']);
    expect(options('required', false)).toEqual(['rbind', 'rprivate', 'ro', 'rro']);
  });
});
