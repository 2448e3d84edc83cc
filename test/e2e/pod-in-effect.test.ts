// The Pod manifest → container mapping, checked from inside the containers it makes (the unit tests of
// desired.ts and spec.ts only see the spec): limits as the kernel's cgroup files (v1 or v2, whichever
// the host runs), runAsUser/runAsGroup, workingDir, hostname, readOnlyRootFilesystem, capability drops
// (against the host's bounding set), allowPrivilegeEscalation, a readOnly hostPath, a subPath, an
// emptyDir, the pod's own network namespace or the host's (hostNetwork); and the secure defaults a pod
// gets: a syscall the seccomp profile refuses fails, /proc paths read-only, /proc/kcore masked.
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupVersion } from '../helpers/cgroups.js';
import { runBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

// Docker's 14 default capabilities, as a CapBnd mask; CHOWN is bit 0, NET_RAW bit 13.
const DEFAULT_CAPS = 0xa80425fbn;
const DROPPED = (1n << 0n) | (1n << 13n);

/** Paths with something to read on this host (a kernel may lack some: /proc/kcore, /proc/sysrq-trigger). */
const present = (paths: string[]) =>
  paths.filter((p) => {
    try {
      return statSync(p).isDirectory() ? readdirSync(p).length > 0 : readFileSync(p).length > 0;
    } catch {
      return false;
    }
  });
// Docker's lists (moby's oci/defaults.go), which the README promises; only those this host has.
const MASKED = present([
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
]);
const READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'].filter((p) =>
  existsSync(p),
);

describe.skipIf(skip)('a Pod manifest, in effect inside its containers', () => {
  let e2e: E2eHost | undefined;
  let work: string;
  let dir: string;
  let root: string;
  let state: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);

  const shaped = (image: string, host: string) => `apiVersion: v1
kind: Pod
metadata: {name: shaped}
spec:
  hostname: shaped-host
  restartPolicy: Never
  containers:
    - name: probe
      image: ${image}
      workingDir: /scratch/wd
      command: ["/bin/sh", "-c"]
      args:
        - |
          mkdir -p /scratch/wd 2>/dev/null
          id -u; id -g; pwd; hostname
          grep -E '^(CapBnd|NoNewPrivs):' /proc/self/status
          touch /new 2>/dev/null && echo rootfs written || echo rootfs refused
          cat /host/in; touch /host/new 2>/dev/null && echo host written || echo host refused
          ls /sub; cat /sub/only; touch /sub/new && echo sub written
          echo s > /scratch/f && echo scratch written
          readlink /proc/self/ns/net
          cd /sys/fs/cgroup
          if [ -e cgroup.controllers ]; then cat memory.max cpu.max; else cat memory/memory.limit_in_bytes cpu/cpu.cfs_quota_us; fi
      resources:
        limits: {memory: 48Mi, cpu: 250m}
      securityContext:
        runAsUser: 65534
        runAsGroup: 65534
        readOnlyRootFilesystem: true
        allowPrivilegeEscalation: false
        capabilities: {drop: [CHOWN, NET_RAW]}
      volumeMounts:
        - {name: host, mountPath: /host, readOnly: true}
        - {name: host, mountPath: /sub, subPath: sub}
        - {name: scratch, mountPath: /scratch}
  volumes:
    - {name: host, hostPath: {path: ${host}}}
    - {name: scratch, emptyDir: {}}
`;
  const hostnet = (image: string) => `apiVersion: v1
kind: Pod
metadata: {name: hostnet}
spec:
  hostNetwork: true
  restartPolicy: Never
  hostAliases: [{ip: 192.0.2.77, hostnames: [db.lan, db]}]
  dnsConfig: {searches: [pods.lan], options: [{name: ndots, value: "2"}]}
  containers:
    - name: probe
      image: ${image}
      env:
        - {name: MASKED, value: "${MASKED.join(' ')}"}
        - {name: READONLY, value: "${READONLY.join(' ')}"}
      command: ["/bin/sh", "-c"]
      args:
        - |
          readlink /proc/self/ns/net
          linux32 true && echo personality allowed
          linux64 -R true 2>/dev/null && echo no-randomize allowed || echo no-randomize refused
          for p in $MASKED; do
            if [ -d $p ]; then n=$(ls -A $p | wc -l); else n=$(head -c 1 $p 2>/dev/null | wc -c); fi
            echo "$p $n"
          done
          for p in $READONLY; do awk -v p=$p '$2 == p { split($4, o, ","); print $2, o[1] }' /proc/mounts; done
          grep db.lan /etc/hosts
          grep -qE '^search (.* )?pods.lan$' /etc/resolv.conf && echo search pods.lan
          grep -qE '^options (.* )?ndots:2( |$)' /etc/resolv.conf && echo options ndots:2
`;

  beforeAll(async () => {
    e2e = await setUpE2eHost('pod-effect');
    ({ work, root, state, dir } = e2e);
    const { image } = e2e;
    const host = join(work, 'host');
    await mkdir(join(host, 'sub'), { recursive: true });
    await chmod(join(host, 'sub'), 0o777); // the probe runs as 65534
    await writeFile(join(host, 'in'), 'from the host\n');
    await writeFile(join(host, 'sub/only'), 'only the subPath\n');
    await writeFile(join(dir, 'shaped.yaml'), shaped(image, host));
    await writeFile(join(dir, 'hostnet.yaml'), hostnet(image));
  }, 180_000);
  afterAll(async () => {
    const { left, leaked } = await tearDownE2eHost(e2e, { berth });
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  const finished = async () => {
    const all = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
      name: string;
      state: string;
      exitCode: number | null;
    }>;
    return Object.fromEntries(all.map((c) => [c.name, [c.state, c.exitCode]]));
  };
  const logs = async (target: string) => {
    const res = await berth('logs', target);
    expect(res.code).toBe(0);
    return res.stdout;
  };

  it('apply makes both pods; each container ran its probe to the end', async () => {
    const apply = await berth('apply', dir);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    // apply waits for the tasks it started; a Never pod's container may still be running its probe.
    for (let i = 0; i < 200; i++) {
      const f = await finished();
      if (f.shaped_probe?.[0] === 'exited' && f.hostnet_probe?.[0] === 'exited') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await finished()).toEqual({ hostnet_probe: ['exited', 0], shaped_probe: ['exited', 0] });
  }, 120_000);

  it('user, group, workingDir, hostname, capabilities, no-new-privileges, mounts, netns and limits', async () => {
    const bounding = BigInt(`0x${/^CapBnd:\s+(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]}`);
    const capBnd = (DEFAULT_CAPS & ~DROPPED & bounding).toString(16).padStart(16, '0');
    const podNetns = statSync(join(state, 'netns', 'pod-shaped')).ino;
    const limits = cgroupVersion() === 2 ? `${48 * 2 ** 20}\n25000 100000\n` : `${48 * 2 ** 20}\n25000\n`;
    expect(await logs('shaped/probe')).toBe(
      [
        '65534',
        '65534',
        '/scratch/wd',
        'shaped-host',
        `CapBnd:\t${capBnd}`,
        'NoNewPrivs:\t1',
        'rootfs refused',
        'from the host',
        'host refused',
        'only',
        'only the subPath',
        'sub written',
        'scratch written',
        `net:[${podNetns}]`,
        '',
      ].join('\n') + limits,
    );
  });

  it("hostNetwork shares the host's; seccomp refuses what its profile does; /proc read-only and masked", async () => {
    expect(await logs('hostnet/probe')).toBe(
      [
        readlinkSync('/proc/self/ns/net'),
        'personality allowed',
        // personality(ADDR_NO_RANDOMIZE) is not among the values containers-common's profile allows
        // (the kernel lets any process set it: the filter is what refuses it).
        'no-randomize refused',
        ...MASKED.map((p) => `${p} 0`),
        ...READONLY.map((p) => `${p} ro`),
        // hostAliases and dnsConfig apply on the host's network too, as the kubelet applies them.
        '192.0.2.77\tdb.lan db',
        'search pods.lan',
        'options ndots:2',
        '',
      ].join('\n'),
    );
  });
});
