// A container's cgroups are removed from every hierarchy the host mounts, walked against a fake
// cgroupfs tree in a temp dir (directories only, as rmdir sees a real cgroupfs): the cgroup v2 path a
// stock Debian 12 host takes (one unified cgroup2 mount) and the v1/hybrid one this CI host runs for
// real (test/e2e/privilege.test.ts). Nothing but the container's own cgroup, and its children, goes.
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { containerCgroupPath, removeCgroups } from '../../src/runtime/cgroups.js';

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

describe('removeCgroups on a fake cgroupfs', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-cgroupfs-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const line = (n: number, mount: string, fs: string, opts: string) =>
    `${n} 1 0:${n} / ${mount} rw,nosuid,nodev,noexec,relatime shared:${n} - ${fs} ${fs} ${opts}`;

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
