// The pure pieces behind least privilege and recovery: which cgroup hierarchies a host has, what
// counts as a usable container record, and how a raw request target becomes a route path.
import { describe, expect, it } from 'vitest';
import { routePathOf } from '../../src/api/limits.js';
import { cgroupMountPoints, containerCgroupPath } from '../../src/runtime/cgroups.js';
import { recordProblem } from '../../src/runtime/record.js';

const ID = 'c5d358a5d7b74b1b9ca7f9febd5cec14';

describe('cgroupMountPoints', () => {
  it('lists every cgroup v1 and cgroup2 mount of a hybrid host, unescaping octal, and nothing else', () => {
    const mountinfo = [
      '25 1 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
      '26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw',
      '27 25 0:25 / /sys/fs/cgroup/systemd rw,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd',
      '30 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct',
      '31 25 0:29 / /sys/fs/cgroup/odd\\040name rw shared:15 - cgroup cgroup rw,pids',
      '40 1 0:40 / /mnt/x\\040-\\040y rw - ext4 /dev/sda1 rw',
      '',
    ].join('\n');
    expect(cgroupMountPoints(mountinfo)).toEqual([
      '/sys/fs/cgroup/unified',
      '/sys/fs/cgroup/systemd',
      '/sys/fs/cgroup/cpu,cpuacct',
      '/sys/fs/cgroup/odd name',
    ]);
  });

  it("a container's cgroup path is built only from a container id", () => {
    expect(containerCgroupPath(ID)).toBe(`/berth/${ID}`);
    expect(() => containerCgroupPath('../../..')).toThrow('bad container id ../../..');
  });
});

describe('recordProblem', () => {
  const good = { id: ID, name: 'web', createdAt: '2026-11-30T00:00:00Z', settings: {}, chainIds: [] };
  it.each([
    ['', 'empty file'],
    ['{"id": "c5d3', 'not JSON (Unterminated string in JSON at position 12 (line 1 column 13))'],
    ['[]', 'not a JSON object'],
    ['null', 'not a JSON object'],
    [JSON.stringify({ ...good, id: 'other' }), 'its id is "other", not the directory\'s'],
    [JSON.stringify({ ...good, name: 3 }), 'no name or createdAt'],
    [JSON.stringify({ ...good, settings: null }), 'no settings'],
    [JSON.stringify({ ...good, chainIds: 'x' }), 'chainIds is not a list'],
  ])('%j is refused: %s', (text, problem) => {
    expect(recordProblem(ID, text)).toBe(problem);
  });

  it('a whole record, and one from before chainIds were kept, are usable', () => {
    expect(recordProblem(ID, JSON.stringify(good))).toBeUndefined();
    const { chainIds: _, ...older } = good;
    expect(recordProblem(ID, JSON.stringify(older))).toBeUndefined();
  });
});

describe('routePathOf', () => {
  it.each([
    ['/v1/pods', '/v1/pods'],
    ['/v1/pods?watch=1', '/v1/pods'],
    ['//', '//'],
    ['/%', '/%'],
    ['*', '*'],
    ['http://evil/v1/pods', 'http://evil/v1/pods'],
    [undefined, '/'],
  ])('%j → %j (never throws, never decodes)', (target, path) => {
    expect(routePathOf(target)).toBe(path);
  });
});
