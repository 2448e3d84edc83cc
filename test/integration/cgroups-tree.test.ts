// A container's cgroups are removed from every hierarchy the host mounts, walked against a fake
// cgroupfs tree in a temp dir (directories only, as rmdir sees a real cgroupfs): the cgroup v2 path a
// stock Debian 12 host takes (one unified cgroup2 mount) and the v1/hybrid one this CI host runs for
// real (test/e2e/privilege.test.ts). Nothing but the container's own cgroup, and its children, goes;
// a pod's cgroup (pod-level resources) goes with its last container. A pod cgroup is made and set in
// the hierarchies holding cpu and memory (on v2 with the controllers enabled down to it).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  containerCgroupPath,
  podCgroupName,
  removeCgroups,
  removeContainerCgroups,
} from '../../src/runtime/cgroups.js';
import { ensurePodCgroup } from '../../src/runtime/pod-cgroup.js';

const ID = 'c5d358a5d7b74b1b9ca7f9febd5cec14';
const OTHER = '0123456789abcdef0123456789abcdef';

async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      out.push(path);
      if (e.isDirectory()) await walk(path);
    }
  };
  await walk('');
  return out.sort();
}

const line = (n: number, mount: string, fs: string, opts: string) =>
  `${n} 1 0:${n} / ${mount} rw,nosuid,nodev,noexec,relatime shared:${n} - ${fs} ${fs} ${opts}`;

describe('removeCgroups on a fake cgroupfs', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-cgroupfs-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('cgroup v2 (unified only): the container cgroup and its children go, a sibling stays', async () => {
    const v2 = join(dir, 'sys/fs/cgroup');
    await mkdir(join(v2, 'berth', ID, 'init.scope', 'deeper'), { recursive: true });
    await mkdir(join(v2, 'berth', OTHER), { recursive: true });
    await mkdir(join(v2, 'system.slice'), { recursive: true });
    const mountinfo = `${line(30, v2, 'cgroup2', 'rw,nsdelegate,memory_recursiveprot')}\n`;
    await removeCgroups(containerCgroupPath(ID), { mountinfo, waitMs: 0 });
    expect(await tree(dir)).toEqual([
      'sys',
      'sys/fs',
      'sys/fs/cgroup',
      'sys/fs/cgroup/berth',
      `sys/fs/cgroup/berth/${OTHER}`,
      'sys/fs/cgroup/system.slice',
    ]);
    // Gone already is done: a second removal is a no-op, not an error.
    await removeCgroups(containerCgroupPath(ID), { mountinfo, waitMs: 0 });
  });

  it('cgroup v1 and hybrid: every controller, name=systemd and the unified tree', async () => {
    const base = join(dir, 'sys/fs/cgroup');
    const hierarchies = ['memory', 'pids', 'cpu,cpuacct', 'systemd', 'unified'];
    for (const h of hierarchies) await mkdir(join(base, h, 'berth', ID), { recursive: true });
    await mkdir(join(base, 'memory', 'berth', OTHER), { recursive: true });
    const mountinfo = [
      `25 1 0:23 / ${base} ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755`,
      line(26, join(base, 'unified'), 'cgroup2', 'rw'),
      line(27, join(base, 'systemd'), 'cgroup', 'rw,xattr,name=systemd'),
      line(28, join(base, 'memory'), 'cgroup', 'rw,memory'),
      line(29, join(base, 'pids'), 'cgroup', 'rw,pids'),
      line(30, join(base, 'cpu,cpuacct'), 'cgroup', 'rw,cpu,cpuacct'),
      '',
    ].join('\n');
    await removeCgroups(containerCgroupPath(ID), { mountinfo, waitMs: 0 });
    expect((await tree(base)).filter((p) => p.includes(ID))).toEqual([]);
    expect((await tree(base)).filter((p) => p.endsWith(OTHER))).toEqual([`memory/berth/${OTHER}`]);
  });
});

describe('pod cgroups on a fake cgroupfs', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-cgroupfs-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const POD = podCgroupName('/r/pods/web');
  const resources = { memoryBytes: 64 * 2 ** 20, milliCpus: 500, cpuShares: 512 };
  const read = (...p: string[]) => readFile(join(...p), 'utf8');

  it('a pod cgroup goes with its last container, a container outside any pod leaves it', async () => {
    const v2 = join(dir, 'sys/fs/cgroup');
    await mkdir(join(v2, 'berth', POD, ID), { recursive: true });
    await mkdir(join(v2, 'berth', POD, OTHER), { recursive: true });
    const mountinfo = `${line(30, v2, 'cgroup2', 'rw')}\n`;
    await removeContainerCgroups(ID, { mountinfo, waitMs: 0 });
    expect(await tree(v2)).toEqual(['berth', `berth/${POD}`, `berth/${POD}/${OTHER}`]);
    await removeContainerCgroups(OTHER, { mountinfo, waitMs: 0 });
    expect(await tree(v2)).toEqual(['berth']);
    // One never used (a create undone before runc made the container's) goes with the next removal.
    await mkdir(join(v2, 'berth', POD), { recursive: true });
    await mkdir(join(v2, 'berth', ID), { recursive: true });
    await removeContainerCgroups(ID, { mountinfo, waitMs: 0 });
    expect(await tree(v2)).toEqual(['berth']);
  });

  it('cgroup v1 (hybrid): cpu and memory set in their own hierarchies, none elsewhere', async () => {
    const base = join(dir, 'sys/fs/cgroup');
    for (const h of ['memory', 'cpu,cpuacct', 'pids', 'unified'])
      await mkdir(join(base, h), { recursive: true });
    await writeFile(join(base, 'unified', 'cgroup.controllers'), '');
    const mountinfo = [
      line(26, join(base, 'unified'), 'cgroup2', 'rw'),
      line(28, join(base, 'memory'), 'cgroup', 'rw,memory'),
      line(29, join(base, 'pids'), 'cgroup', 'rw,pids'),
      line(30, join(base, 'cpu,cpuacct'), 'cgroup', 'rw,cpu,cpuacct'),
      '',
    ].join('\n');
    await ensurePodCgroup({ name: POD, resources }, { mountinfo });
    const pod = (h: string) => join(base, h, 'berth', POD);
    expect(await read(pod('cpu,cpuacct'), 'cpu.cfs_quota_us')).toBe('50000');
    expect(await read(pod('cpu,cpuacct'), 'cpu.shares')).toBe('512');
    expect(await read(pod('memory'), 'memory.limit_in_bytes')).toBe(String(64 * 2 ** 20));
    expect((await tree(base)).filter((p) => p.includes(POD) && !p.endsWith(POD))).toEqual([
      `cpu,cpuacct/berth/${POD}/cpu.cfs_period_us`,
      `cpu,cpuacct/berth/${POD}/cpu.cfs_quota_us`,
      `cpu,cpuacct/berth/${POD}/cpu.shares`,
      `memory/berth/${POD}/memory.limit_in_bytes`,
      `memory/berth/${POD}/memory.soft_limit_in_bytes`,
    ]);
    // Lowered while a container made under a higher quota is inside (v1 refuses a parent below a
    // child): that child is brought down first; one below or without a quota is left as it is.
    const child = (name: string, quota: string) =>
      mkdir(join(pod('cpu,cpuacct'), name)).then(() =>
        writeFile(join(pod('cpu,cpuacct'), name, 'cpu.cfs_quota_us'), quota),
      );
    await child('high', '200000');
    await child('low', '10000');
    await child('none', '-1');
    await ensurePodCgroup({ name: POD, resources: { ...resources, milliCpus: 250 } }, { mountinfo });
    expect(await read(pod('cpu,cpuacct'), 'cpu.cfs_quota_us')).toBe('25000');
    expect(
      await Promise.all(['high', 'low', 'none'].map((c) => read(pod('cpu,cpuacct'), c, 'cpu.cfs_quota_us'))),
    ).toEqual(['25000', '10000', '-1']);
    for (const c of ['high', 'low', 'none']) await rm(join(pod('cpu,cpuacct'), c), { recursive: true });
    // Limits taken away are written as none, the next time.
    await ensurePodCgroup({ name: POD, resources: {} }, { mountinfo });
    expect(await read(pod('cpu,cpuacct'), 'cpu.cfs_quota_us')).toBe('-1');
    expect(await read(pod('memory'), 'memory.limit_in_bytes')).toBe('-1');
  });

  it('cgroup v2: the controllers enabled from the root down, then the limits', async () => {
    const v2 = join(dir, 'sys/fs/cgroup');
    await mkdir(v2, { recursive: true });
    await writeFile(join(v2, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    const mountinfo = `${line(30, v2, 'cgroup2', 'rw')}\n`;
    await ensurePodCgroup({ name: POD, resources }, { mountinfo });
    for (const d of [v2, join(v2, 'berth'), join(v2, 'berth', POD)])
      expect(await read(d, 'cgroup.subtree_control')).toBe('+cpu +memory');
    expect(await read(v2, 'berth', POD, 'cpu.max')).toBe('50000 100000');
    expect(await read(v2, 'berth', POD, 'memory.max')).toBe(String(64 * 2 ** 20));
  });
});
