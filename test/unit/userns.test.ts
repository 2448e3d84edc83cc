// hostUsers: false without a container: the ID pool (lowest free slot, stable per pod, exhausted
// is one clear error, a pool past 32 bits refused), the host probe (no user namespaces, switched
// off), the manifest reaching the runtime config (a user namespace, mappings, /sys bound) and the
// sandbox check (a pod without its recorded range is set up again).
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeHostConfig } from '../../src/config/host-config.js';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import type { PodManifest } from '../../src/manifest/kinds.js';
import { parseFile } from '../../src/manifest/parse.js';
import { desiredPod } from '../../src/reconcile/desired.js';
import { checkSandbox } from '../../src/reconcile/sandbox.js';
import {
  allocateIdRange,
  DEFAULT_FIRST_ID,
  ID_RANGE_SIZE,
  pickRange,
  readIdRange,
} from '../../src/runtime/id-range.js';
import { idMapText, podUsernsFileOf } from '../../src/runtime/pod-userns.js';
import { buildRuntimeSpec } from '../../src/runtime/spec.js';
import { checkUsernsHost, usernsUnsupported } from '../../src/runtime/userns-host.js';
import { lockedFlags } from '../../src/runtime/userns-mounts.js';
import { checkWalkable } from '../../src/runtime/userns-rootfs.js';
import { TEST_HOST } from '../helpers/observed.js';

const POD = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostUsers: false\n  containers:\n    - name: main\n      image: busybox\n`;

describe('the ID pool', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-idrange-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('picks the lowest free slot, none when all are taken', () => {
    const pool = { firstId: 100_000, ranges: 3 };
    expect(pickRange([], pool)).toBe(100_000);
    expect(pickRange([100_000, 100_000 + 2 * ID_RANGE_SIZE], pool)).toBe(100_000 + ID_RANGE_SIZE);
    expect(pickRange([100_000, 165_536, 231_072], pool)).toBeUndefined();
  });

  it('a pod keeps its range; pods get disjoint ones; a freed slot is reused; exhausted says so', async () => {
    const pool = { firstId: DEFAULT_FIRST_ID, ranges: 2 };
    const a = await allocateIdRange(dir, 'a', pool);
    const b = await allocateIdRange(dir, 'b', pool);
    expect([a, b]).toEqual([
      { base: DEFAULT_FIRST_ID, size: ID_RANGE_SIZE },
      { base: DEFAULT_FIRST_ID + ID_RANGE_SIZE, size: ID_RANGE_SIZE },
    ]);
    expect(await allocateIdRange(dir, 'a', pool)).toEqual(a);
    await expect(allocateIdRange(dir, 'c', pool)).rejects.toMatchObject({
      code: 'ERR_USERNS_UNAVAILABLE',
      message:
        "pod c: spec.hostUsers: false needs a range of 65536 host IDs and all 2 of the host's (userNamespaces in the host config) are taken",
    });
    await rm(join(dir, 'a'), { recursive: true });
    expect(await allocateIdRange(dir, 'c', pool)).toEqual(a);
  });

  it('pods set up at once (one pass, in parallel) still get disjoint ranges', async () => {
    const pool = { firstId: DEFAULT_FIRST_ID, ranges: 8 };
    const names = ['p1', 'p2', 'p3', 'p4', 'p5'];
    const got = await Promise.all(names.map((n) => allocateIdRange(dir, n, pool)));
    expect(got.map((r) => (r.base - DEFAULT_FIRST_ID) / ID_RANGE_SIZE).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('a record berth did not write is no range (never trusted to map host root)', async () => {
    await mkdir(join(dir, 'x'));
    for (const text of [
      '{"base":0,"size":65536}',
      '{"base":4294967290,"size":65536}',
      '{"base":1e6,"size":1}',
      'nope',
    ])
      await writeFile(join(dir, 'x', 'userns.json'), text).then(() =>
        expect(readIdRange(join(dir, 'x'))).toBeUndefined(),
      );
  });

  it('the host config pool: defaults, and one that passes 32 bits is refused', () => {
    expect(normalizeHostConfig({}).userNamespaces).toEqual({ firstId: 2 ** 30, ranges: 16384 });
    expect(() => normalizeHostConfig({ userNamespaces: { firstId: 2 ** 32 - 2 ** 17, ranges: 2 } })).toThrow(
      'userNamespaces: firstId 4294836224 + ranges 2 × 65536 passes the last host ID (4294967294)',
    );
  });
});

describe('the host', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-userns-host-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('without user namespaces, or with them switched off, a pod is refused naming the field', async () => {
    const ns = join(dir, 'user');
    const max = join(dir, 'max');
    expect(usernsUnsupported({ nsFile: ns, maxFile: max })).toBe(
      `the kernel has no user namespaces (${ns} is missing)`,
    );
    await writeFile(ns, '');
    await writeFile(max, '0\n');
    expect(() => checkUsernsHost('p', { nsFile: ns, maxFile: max })).toThrow(
      `pod p: spec.hostUsers: false needs a user namespace and user namespaces are switched off (${max} is 0)`,
    );
    await writeFile(max, '15000\n');
    expect(usernsUnsupported({ nsFile: ns, maxFile: max })).toBeUndefined();
  });
});

describe('manifest to runtime', () => {
  const parsed = parseFile(POD, 'm.yaml');
  const manifest = parsed.parsed[0]?.value as PodManifest;

  it('hostUsers: false validates clean and reaches the pod (its pool) and every container (its home)', () => {
    expect(parsed.diagnostics.map(formatDiagnostic)).toEqual([]);
    const d = desiredPod(manifest, 'm.yaml', TEST_HOST);
    expect(d.userns).toEqual({ firstId: DEFAULT_FIRST_ID, ranges: 16384 });
    expect(d.containers[0]?.settings.userns).toBe('/r/pods/p');
    const n = d.network;
    const set = {
      netns: true,
      volumes: {},
      ...(n
        ? { network: { state: 'ready' as const, ports: n.ports, names: n.names, aliases: n.aliases } }
        : {}),
    };
    expect(checkSandbox(d, set)).toBe('broken'); // no range recorded: set up again
    expect(checkSandbox(d, { ...set, userns: true })).toBe('whole');
  });

  /** A root container's config on a host with these facts besides the usual paths. */
  const userSpec = (facts: Partial<Parameters<typeof buildRuntimeSpec>[3]>) =>
    buildRuntimeSpec(
      { config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: [] } },
      { name: 'w' },
      { uid: 0, gid: 0, additionalGids: [], home: '/' },
      {
        nofileHard: 1024,
        hostname: '/b/h',
        etcHosts: '/b/e',
        resolvConf: '/b/r',
        cgroupsPath: '/berth/x',
        ...facts,
      },
    );

  it('the config has a user namespace mapping 0… to the range, and /sys bound from the host', () => {
    const spec = userSpec({
      idMap: { hostId: DEFAULT_FIRST_ID, size: ID_RANGE_SIZE },
      rootPath: '/r/userns/x/rootfs',
    }) as {
      root: { path: string };
      mounts: Array<{ destination: string; type: string; source: string; options: string[] }>;
      linux: { namespaces: Array<{ type: string }>; uidMappings: object; gidMappings: object };
    };
    const map = [{ containerID: 0, hostID: DEFAULT_FIRST_ID, size: ID_RANGE_SIZE }];
    expect(spec.linux.namespaces.map((n) => n.type)).toEqual([
      'pid',
      'ipc',
      'uts',
      'mount',
      'user',
      'network',
    ]);
    expect([spec.linux.uidMappings, spec.linux.gidMappings]).toEqual([map, map]);
    expect(spec.root.path).toBe('/r/userns/x/rootfs');
    expect(spec.mounts.find((m) => m.destination === '/sys')).toEqual({
      destination: '/sys',
      type: 'bind',
      source: '/sys',
      options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
    });
  });

  it("joining the pod's user namespace: its path with the same mapping, and a sysfs of its own", () => {
    const spec = userSpec({
      netnsPath: '/s/netns/pod-p',
      idMap: { hostId: DEFAULT_FIRST_ID, size: ID_RANGE_SIZE, path: podUsernsFileOf('/s/netns/pod-p') },
    }) as {
      mounts: Array<{ destination: string; type: string }>;
      linux: { namespaces: Array<{ type: string; path?: string }>; uidMappings: object };
    };
    expect(spec.linux.namespaces.filter((n) => n.path)).toEqual([
      { type: 'user', path: '/s/netns/userns/pod-p' },
      { type: 'network', path: '/s/netns/pod-p' },
    ]);
    expect(spec.linux.uidMappings).toEqual([
      { containerID: 0, hostID: DEFAULT_FIRST_ID, size: ID_RANGE_SIZE },
    ]);
    expect(spec.mounts.find((m) => m.destination === '/sys')?.type).toBe('sysfs');
    expect(idMapText(5, 7)).toBe('0 5 7\n');
  });
});

describe('procMount Unmasked', () => {
  it('is honoured with hostUsers: false: no masked or read-only paths in the config', () => {
    const text = POD.replace(
      'image: busybox\n',
      'image: busybox\n      securityContext: {procMount: Unmasked}\n',
    );
    const r = parseFile(text, 'm.yaml');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const settings = desiredPod(r.parsed[0]?.value as PodManifest, 'm.yaml', TEST_HOST).containers[0]
      ?.settings;
    expect(settings?.procUnmasked).toBe(true);
    const host = { nofileHard: 1024, hostname: '/h', etcHosts: '/e', resolvConf: '/r', cgroupsPath: '/c' };
    const image = { config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers' as const, diff_ids: [] } };
    const user = { uid: 0, gid: 0, additionalGids: [], home: '/' };
    type Linux = { linux: { maskedPaths?: string[]; readonlyPaths?: string[] } };
    const spec = (s: object) => (buildRuntimeSpec(image, { name: 'w', ...s }, user, host) as Linux).linux;
    expect([spec({ procUnmasked: true }).maskedPaths, spec({ procUnmasked: true }).readonlyPaths]).toEqual([
      undefined,
      undefined,
    ]);
    expect(spec({}).maskedPaths?.includes('/proc/kcore')).toBe(true);
  });
});

describe('read-only binds in a user namespace', () => {
  it("keep the source mount's locked flags (the deepest mount, the last of one path, escapes decoded)", () => {
    const info = [
      '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
      '30 22 0:5 / /r/pods/p/volumes/key rw,nosuid,nodev,relatime - tmpfs tmpfs rw',
      '31 30 0:6 / /r/pods/p/volumes/key rw,nosuid,nodev,noexec,noatime - tmpfs tmpfs rw',
      '32 22 0:7 / /data\\040x rw,noexec - ext4 /dev/sdb rw',
    ].join('\n');
    expect(lockedFlags(info, '/r/pods/p/volumes/key/..data')).toEqual([
      'nosuid',
      'nodev',
      'noexec',
      'noatime',
    ]);
    expect(lockedFlags(info, '/data x/f')).toEqual(['noexec']);
    expect(lockedFlags(info, '/r/pods/p/volumes/keys')).toEqual([]);
  });
});

describe('the way down to the rootfs', () => {
  it('a directory others cannot search is named, before runc fails with a bare permission denied', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-walk-'));
    try {
      await chmod(dir, 0o700);
      await mkdir(join(dir, 'root'), 0o711);
      await expect(checkWalkable(join(dir, 'root'))).rejects.toMatchObject({
        code: 'ERR_USERNS_UNAVAILABLE',
        message: `spec.hostUsers: false: the pod's root cannot reach its rootfs under ${dir}/root: ${dir} is mode 0700`,
      });
      await chmod(dir, 0o711);
      await expect(checkWalkable(join(dir, 'root'))).resolves.toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
