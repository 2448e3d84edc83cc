// Pod-level resources (spec.resources) end to end, as root with real runc, conmon and the host's
// cgroups: the pod gets a cgroup of its own under /berth that parents its containers' and holds the
// pod's cpu quota and memory limit; a container with no limit of its own is OOM-killed past the pod's
// memory limit; the pod cgroup goes with the pod and comes back after a reboot (with the container
// that runs on: the hog's own restartPolicy Never keeps it down). A pod without
// spec.resources keeps its containers directly under /berth.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podCgroupName } from '../../src/runtime/cgroups.js';
import { cgroupVersion } from '../helpers/cgroups.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { simulateReboot } from '../helpers/reboot.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});
const CGROUPS = '/sys/fs/cgroup';

/** Every place pod cgroup `name` is, in whichever hierarchies the host mounts. */
const podCgroupDirs = (name: string) =>
  cgroupVersion() === 2
    ? [join(CGROUPS, 'berth', name)].filter(existsSync)
    : readdirSync(CGROUPS)
        .map((h) => join(CGROUPS, h, 'berth', name))
        .filter(existsSync);

describe.skipIf(skip)('pod-level resources', () => {
  let e2e: E2eHost | undefined;
  let pod = '';
  const berth = (...args: string[]) => (e2e as E2eHost).berth(...args);
  const containers = async () =>
    Object.fromEntries(
      (
        JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
          name: string;
          id: string;
          state: string;
          exitCode: number | null;
          oomKilled: boolean;
        }>
      ).map((c) => [c.name, c]),
    );
  /** Polls for at most 60 s, well within each test's time: nothing runs on after its test. */
  const until = async (what: string, probe: () => Promise<boolean>) => {
    for (const end = Date.now() + 60_000; Date.now() < end; ) {
      if (await probe()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`never: ${what}`);
  };
  const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim();

  beforeAll(async () => {
    e2e = await setUpE2eHost('podres');
    pod = podCgroupName(join(e2e.root, 'pods', 'capped'));
    await writeFile(
      join(e2e.dir, 'capped.yaml'),
      `apiVersion: v1
kind: Pod
metadata: {name: capped}
spec:
  resources:
    limits: {memory: 64Mi, cpu: 500m}
  containers:
    - name: hog
      image: ${e2e.image}
      restartPolicy: Never
      command: ["/bin/sh", "-c", 'x=$(head -c 100000000 /dev/zero | tr "\\\\0" a); echo survived']
    - name: idle
      image: ${e2e.image}
      command: ["/bin/sh", "-c", "sleep 1000"]
`,
    );
    await writeFile(
      join(e2e.dir, 'plain.yaml'),
      `apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  containers:
    - name: idle
      image: ${e2e.image}
      command: ["/bin/sh", "-c", "sleep 1000"]
`,
    );
  }, 180_000);
  afterAll(async () => {
    const { left, leaked } = await tearDownE2eHost(e2e);
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
    expect(podCgroupDirs(pod)).toEqual([]);
  });

  it('a container with no limit of its own is OOM-killed past the pod memory limit', async () => {
    const apply = await berth('apply', (e2e as E2eHost).dir);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    await until('the hog exits', async () => (await containers()).capped_hog?.state === 'exited');
    expect((await containers()).capped_hog).toMatchObject({ exitCode: 137, oomKilled: true });
    expect((await berth('logs', 'capped/hog')).stdout).not.toContain('survived');
  }, 120_000);

  it("the pod cgroup holds the pod's cpu quota and memory limit and parents its containers", async () => {
    const all = await containers();
    const idle = all.capped_idle?.id as string;
    const plain = all.plain_idle?.id as string;
    if (cgroupVersion() === 2) {
      const dir = join(CGROUPS, 'berth', pod);
      expect(read(dir, 'cpu.max')).toBe('50000 100000');
      expect(read(dir, 'memory.max')).toBe(String(64 * 2 ** 20));
      expect(existsSync(join(dir, idle))).toBe(true);
    } else {
      expect(read(join(CGROUPS, 'cpu', 'berth', pod), 'cpu.cfs_quota_us')).toBe('50000');
      expect(read(join(CGROUPS, 'memory', 'berth', pod), 'memory.limit_in_bytes')).toBe(String(64 * 2 ** 20));
      for (const h of ['cpu', 'memory', 'pids'])
        expect(existsSync(join(CGROUPS, h, 'berth', pod, idle))).toBe(true);
    }
    // A pod without spec.resources: its container right under /berth, as before.
    const base = cgroupVersion() === 2 ? CGROUPS : join(CGROUPS, 'memory');
    expect(existsSync(join(base, 'berth', plain))).toBe(true);
  });

  it('after a reboot the pod cgroup is made again with its limits', async () => {
    const h = e2e as E2eHost;
    await simulateReboot(h.root, h.state);
    expect(podCgroupDirs(pod)).toEqual([]);
    const apply = await berth('apply', h.dir);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    await until(
      'the idle container runs again',
      async () => (await containers()).capped_idle?.state === 'running',
    );
    const [dir, file] =
      cgroupVersion() === 2
        ? [join(CGROUPS, 'berth', pod), 'memory.max']
        : [join(CGROUPS, 'memory', 'berth', pod), 'memory.limit_in_bytes'];
    expect(read(dir, file)).toBe(String(64 * 2 ** 20));
  }, 120_000);

  it('the pod removed: its cgroup is gone from every hierarchy', async () => {
    const h = e2e as E2eHost;
    await rm(join(h.dir, 'capped.yaml'));
    const apply = await berth('apply', h.dir);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    expect(Object.keys(await containers())).toEqual(['plain_idle']);
    expect(podCgroupDirs(pod)).toEqual([]);
  }, 120_000);
});
