// hostUsers: false end to end, as root, with real runc, conmon and overlayfs: the pod's root is uid 0
// inside and its own range of host IDs outside (uid_map), what it writes in an emptyDir is owned by
// that range on the host, a root-only host file through a hostPath stays unreadable, runAsUser maps
// into the range, two pods get disjoint ranges, a reboot keeps the range and removal frees it with
// the shifted copies; an image file owned outside 0–65535 is refused naming it; setuid bits, file
// capabilities (as v3, owned by the pod's root), symlinks (never followed) and hard links survive
// the shift; procMount Unmasked drops the masked /proc paths; a 0400 Secret is the pod root's.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, link, lstat, mkdir, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { DEFAULT_FIRST_ID, ID_RANGE_SIZE } from '../../src/runtime/id-range.js';
import { runBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { buildImage, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { simulateReboot } from '../helpers/reboot.js';
import type { TestRegistry } from '../helpers/registry.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'setcap', 'getfattr'], {
  root: true,
});

describe.skipIf(skip)('hostUsers: false', () => {
  let host: E2eHost | undefined;
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let dir: string;
  let root: string;
  let state: string;
  let image: string;
  let hostile: string;
  let secret: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const rangeOf = (pod: string) =>
    JSON.parse(readFileSync(join(root, 'pods', pod, 'userns.json'), 'utf8')) as {
      base: number;
      size: number;
    };
  const podYaml = (name: string, command: string, extra = '', img = image) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  hostUsers: false\n  terminationGracePeriodSeconds: 1\n` +
    `  restartPolicy: Never\n${extra}  containers:\n    - name: main\n      image: ${img}\n` +
    `      command: [sh, -c, ${JSON.stringify(command)}]\n` +
    `      volumeMounts: [{name: data, mountPath: /data}, {name: host, mountPath: /host}]\n` +
    `  volumes:\n    - name: data\n    - {name: host, hostPath: {path: ${JSON.stringify(join(work, 'hostdir'))}}}\n`;
  const finished = async (name: string) => {
    const deadline = Date.now() + 30_000;
    let pod: PodView | undefined;
    while (Date.now() < deadline) {
      pod = (await ps()).find((p) => p.name === name);
      if (pod?.phase === 'Succeeded' || pod?.phase === 'Failed') return pod;
      await new Promise((r) => setTimeout(r, 100));
    }
    return pod;
  };

  beforeAll(async () => {
    host = await setUpE2eHost('userns');
    ({ work, root, state, dir, registry, layout } = host);
    // The pod's root walks down to its rootfs: the store's parents must be walkable (as /var/lib is).
    await chmod(work, 0o711);
    await mkdir(join(work, 'hostdir'));
    secret = join(work, 'hostdir', 'secret');
    await writeFile(secret, 'host secret\n', { mode: 0o600 });
    await chmod(secret, 0o600);
    const odd = async (rootfs: string) => {
      await mkdir(join(rootfs, 'odd'), { recursive: true });
      await writeFile(join(rootfs, 'odd/suid'), '#!/bin/sh\n');
      execFileSync('chown', ['0:5', join(rootfs, 'odd/suid')]);
      await chmod(join(rootfs, 'odd/suid'), 0o4755);
      await writeFile(join(rootfs, 'odd/target'), 'x');
      execFileSync('chown', ['1000:1000', join(rootfs, 'odd/target')]);
      await link(join(rootfs, 'odd/target'), join(rootfs, 'odd/hard'));
      // A symlink owned by 7 pointing out of the image: shifted itself, its target never touched.
      await writeFile(join(rootfs, 'odd/capped'), 'x');
      execFileSync('setcap', ['cap_net_raw+ep', join(rootfs, 'odd/capped')]); // a v2 capability
      await symlink(secret, join(rootfs, 'odd/out'));
      execFileSync('chown', ['-h', '7:7', join(rootfs, 'odd/out')]);
    };
    await buildImage(layout, 'odd', [populateBusybox, odd], { cmd: '/bin/sh' });
    image = `${registry.host}/demo/odd:1`;
    await pushImage(layout, 'odd', image);
    const outside = async (rootfs: string) => {
      await writeFile(join(rootfs, 'big-uid'), 'x');
      execFileSync('chown', ['70000:0', join(rootfs, 'big-uid')]);
    };
    await buildImage(layout, 'outside', [populateBusybox, outside], { cmd: '/bin/sh' });
    hostile = `${registry.host}/demo/outside:1`;
    await pushImage(layout, 'outside', hostile);
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await tearDownE2eHost(host);
    expect(leaked).toEqual([]);
  });

  it('root inside is the range outside: uid_map, emptyDir owner, a root-only hostPath file unreadable', async () => {
    await writeFile(
      join(dir, 'a.yaml'),
      podYaml(
        'a',
        'id -u; cat /proc/self/uid_map /proc/self/gid_map; touch /data/f; cat /host/secret 2>&1 >/dev/null | sed "s/.*: //"; ls -ln /odd',
      ),
    );
    const apply = await berth('apply', dir);
    expect(apply.stderr).toBe('');
    const pod = await finished('a');
    const logs = await berth('logs', 'a');
    expect(pod?.phase).toBe('Succeeded');
    const { base, size } = rangeOf('a');
    expect([base, size]).toEqual([DEFAULT_FIRST_ID, ID_RANGE_SIZE]);
    const map = `${'0'.padStart(10)}${String(base).padStart(11)}${String(size).padStart(11)}`;
    expect(logs.stdout.split('\n').slice(0, 4)).toEqual(['0', map, map, 'Permission denied']);
    const f = await stat(join(root, 'pods', 'a', 'volumes', 'data', 'f'));
    expect([f.uid, f.gid]).toEqual([base, base]);
  });

  it('runAsUser 1000 is base+1000; two pods get disjoint ranges; the shift keeps setuid, links and hard links', async () => {
    await writeFile(
      join(dir, 'b.yaml'),
      podYaml(
        'b',
        'id -u; touch /data/g; ls -ln /odd/suid | cut -c1-10; stat -c %h /odd/hard',
        '  securityContext: {runAsUser: 1000, runAsGroup: 1000}\n',
      ),
    );
    expect((await berth('apply', dir)).stderr).toBe('');
    const pod = await finished('b');
    expect(pod?.phase).toBe('Succeeded');
    expect((await berth('logs', 'b')).stdout).toBe('1000\n-rwsr-xr-x\n2\n');
    const a = rangeOf('a').base;
    const { base } = rangeOf('b');
    expect(base).toBe(a + ID_RANGE_SIZE); // the next slot: disjoint from a's
    const g = await stat(join(root, 'pods', 'b', 'volumes', 'data', 'g'));
    expect([g.uid, g.gid]).toEqual([base + 1000, base + 1000]);
    // The shifted copies on the host: owners moved by base, setuid kept, a symlink shifted itself
    // (its target, the host's secret, untouched), a hard link still one inode.
    const shifted = join(root, 'pods', 'b', 'shifted');
    const copies = await readdir(shifted);
    const odd = copies.map((c) => join(shifted, c, 'odd')).find((d) => existsSync(join(d, 'suid')));
    if (!odd) throw new Error(`no shifted copy has odd/: ${copies.join(' ')}`);
    const suid = await lstat(join(odd, 'suid'));
    expect([suid.uid, suid.gid, (suid.mode & 0o7777).toString(8)]).toEqual([base, base + 5, '4755']);
    const out = await lstat(join(odd, 'out'));
    expect([out.isSymbolicLink(), out.uid, out.gid]).toEqual([true, base + 7, base + 7]);
    const host = await stat(secret);
    expect([host.uid, host.gid, (host.mode & 0o777).toString(8)]).toEqual([0, 0, '600']);
    // The file capability is v3 now, owned by the pod's root (a v2 one would not apply inside).
    const rootid = Buffer.alloc(4);
    rootid.writeUInt32LE(base);
    expect(
      execFileSync('getfattr', [
        '--absolute-names',
        '-n',
        'security.capability',
        '-e',
        'hex',
        join(odd, 'capped'),
      ])
        .toString()
        .split('\n')[1],
    ).toBe(`security.capability=0x0100000300200000000000000000000000000000${rootid.toString('hex')}`);
    const [t, h] = [await lstat(join(odd, 'target')), await lstat(join(odd, 'hard'))];
    expect([t.ino === h.ino, t.nlink, t.uid, t.gid]).toEqual([true, 2, base + 1000, base + 1000]);
  });

  it('an image file owned outside 0-65535 is refused, naming the file and the ID', async () => {
    await writeFile(join(dir, 'bad.yaml'), podYaml('bad', 'true', '', hostile));
    const apply = await berth('apply', dir);
    expect(apply.code).toBe(1);
    const pod = (await ps()).find((p) => p.name === 'bad');
    expect(pod?.containers.map((c) => [c.state, c.lastError])).toEqual([
      [
        'waiting',
        'ERR_USERNS_IMAGE_IDS: the image cannot run with hostUsers: false: /big-uid is owned by uid 70000, outside the pod user namespace 0-65535',
      ],
    ]);
    await rm(join(dir, 'bad.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
    expect(existsSync(join(root, 'pods', 'bad'))).toBe(false);
  });

  it('a reboot keeps the range; removal frees it with the shifted copies, and the next pod gets it', async () => {
    for (const f of ['a.yaml', 'b.yaml']) await rm(join(dir, f), { force: true });
    expect((await berth('apply', dir)).code).toBe(0);
    expect(existsSync(join(root, 'pods', 'a'))).toBe(false); // a and b are gone: both slots free
    await writeFile(
      join(dir, 'c.yaml'),
      podYaml('c', 'sleep 1000').replace('restartPolicy: Never', 'restartPolicy: Always'),
    );
    expect((await berth('apply', dir)).stderr).toBe('');
    const { base } = rangeOf('c');
    expect(base).toBe(DEFAULT_FIRST_ID);
    const uidMap = async () => {
      const pid = (await ps()).find((p) => p.name === 'c')?.containers[0]?.pid;
      return pid ? readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/) : [];
    };
    expect(await uidMap()).toEqual(['0', String(base), String(ID_RANGE_SIZE)]);
    await simulateReboot(root, state);
    expect((await berth('apply', dir)).stderr).toBe('');
    expect(rangeOf('c').base).toBe(base);
    expect(await uidMap()).toEqual(['0', String(base), String(ID_RANGE_SIZE)]);
    await rm(join(dir, 'c.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
    expect(existsSync(join(root, 'pods', 'c'))).toBe(false); // userns.json and shifted/ with it
    expect(await readdir(join(root, 'userns'))).toEqual([]); // no rootfs mount point left
    await writeFile(join(dir, 'd.yaml'), podYaml('d', 'true'));
    expect((await berth('apply', dir)).stderr).toBe('');
    expect(rangeOf('d').base).toBe(base);
  });

  it("one user namespace per pod owns its namespaces: exec, a net sysctl, the pod's own sysfs, a shared PID namespace", async () => {
    await writeFile(
      join(dir, 'x.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  hostUsers: false\n  shareProcessNamespace: true\n` +
        `  terminationGracePeriodSeconds: 1\n  securityContext: {sysctls: [{name: net.ipv4.ping_group_range, value: "0 1000"}]}\n` +
        `  containers:\n    - {name: one, image: ${image}, command: [sleep, '1000']}\n` +
        `    - {name: two, image: ${image}, command: [sleep, '1000']}\n`,
    );
    expect((await berth('apply', dir)).stderr).toBe('');
    const userns = join(state, 'netns', 'userns', 'pod-x');
    const pids = (await ps()).find((p) => p.name === 'x')?.containers.map((c) => c.pid) ?? [];
    expect(pids).toHaveLength(2);
    // Both containers are in the pod's namespace, the one its file holds.
    const usernsOf = (pid: unknown) => statSync(`/proc/${pid}/ns/user`).ino;
    expect(pids.map(usernsOf)).toEqual([statSync(userns).ino, statSync(userns).ino]);
    const exec = (...argv: string[]) => berth('container', 'exec', 'x_one', '--', ...argv);
    const id = await exec('id', '-u');
    expect([id.stderr, id.stdout]).toEqual(['', '0\n']);
    expect((await exec('cat', '/proc/sys/net/ipv4/ping_group_range')).stdout.split(/\s+/)).toEqual([
      '0',
      '1000',
      '',
    ]);
    // Its sysfs is its network's: the interfaces of the pod's netns, none of the host's.
    const podLinks = execFileSync('nsenter', [`--net=${join(state, 'netns', 'pod-x')}`, 'ip', '-o', 'link'])
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(': ')[1]?.split('@')[0])
      .sort();
    const sysfs = (await exec('ls', '/sys/class/net')).stdout.split(/\s+/).filter(Boolean).sort();
    expect(sysfs).toEqual(podLinks);
    // One PID namespace: `two`'s sleep is seen from `one`.
    expect((await exec('ps', '-o', 'args')).stdout.match(/sleep 1000/g)).toHaveLength(2);
    await rm(join(dir, 'x.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
    expect(existsSync(userns)).toBe(false);
  });

  it('procMount Unmasked leaves /proc without masked or read-only paths; Default masks them', async () => {
    const count = "grep -c ' /proc/' /proc/self/mountinfo || true";
    await writeFile(
      join(dir, 'u.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: u}\nspec:\n  hostUsers: false\n  terminationGracePeriodSeconds: 1\n` +
        `  restartPolicy: Never\n  containers:\n` +
        `    - {name: unmasked, image: ${image}, command: [sh, -c, ${JSON.stringify(count)}], securityContext: {procMount: Unmasked}}\n` +
        `    - {name: masked, image: ${image}, command: [sh, -c, ${JSON.stringify(count)}]}\n`,
    );
    expect((await berth('apply', dir)).stderr).toBe('');
    expect((await finished('u'))?.phase).toBe('Succeeded');
    expect((await berth('logs', 'u/unmasked')).stdout).toBe('0\n');
    const masked = Number((await berth('logs', 'u/masked')).stdout);
    expect(masked).toBeGreaterThan(0); // this host's share of runc's masked and read-only paths
    await rm(join(dir, 'u.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  });

  it("a Secret volume with defaultMode 0400 is the pod root's: readable inside, owned by the range on the host", async () => {
    await writeFile(
      join(dir, 's.yaml'),
      `apiVersion: v1\nkind: Secret\nmetadata: {name: key}\nstringData: {id: s3cret}\n---\n` +
        `apiVersion: v1\nkind: Pod\nmetadata: {name: s}\nspec:\n  hostUsers: false\n  terminationGracePeriodSeconds: 1\n` +
        `  restartPolicy: Never\n  containers:\n` +
        `    - {name: main, image: ${image}, command: [sh, -c, "cat /key/id; stat -c '%u %a' /key/..data/id"], volumeMounts: [{name: key, mountPath: /key}]}\n` +
        `  volumes: [{name: key, secret: {secretName: key, defaultMode: 0400}}]\n`,
    );
    expect((await berth('apply', dir)).stderr).toBe('');
    expect((await finished('s'))?.phase).toBe('Succeeded');
    expect((await berth('logs', 's')).stdout).toBe('s3cret0 400\n');
    const { base } = rangeOf('s');
    const st = await stat(join(root, 'pods', 's', 'volumes', 'key', 'id'));
    expect([st.uid, st.gid, (st.mode & 0o777).toString(8)]).toEqual([base, base, '400']);
    await rm(join(dir, 's.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  });
});
