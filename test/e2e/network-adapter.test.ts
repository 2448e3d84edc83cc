// The network adapter alone, as root with the real CNI plugins: a published UDP port reaches a
// listener in the pod's namespace (from 127.0.0.1 and from the host's address), address
// allocations never leak over many attach/detach cycles and a simulated reboot, the bridge and the
// network's rules stay after the last pod with nothing of any pod left (veths, DNAT chains, IPAM
// files), a removal's port rules go in one iptables-restore (no portmap DEL), and once the network
// is removed the host is as it was.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetworkAdapter, NETWORK_LOCK_DIR, type NetworkAdapter } from '../../src/network/adapter.js';
import { rootTagOf, taggedCniId } from '../../src/network/attachments.js';
import { hostVethsOf, portmapChainOf } from '../../src/network/conflist.js';
import { ipamStoreOf, readAllocations } from '../../src/network/ipam-store.js';
import { HOST_TOOLS, type NetworkTools } from '../../src/network/tools.js';
import { createNetns, removeNetns } from '../../src/runtime/netns.js';
import { freePort, freePortRun } from '../helpers/free-port.js';
import { bridgeAllocations, keptNetworkRules, removeBridgeLockFile } from '../helpers/network-kept.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(
  ['iptables', 'iptables-save', 'ip', 'unshare', 'nsenter', '/usr/lib/cni/bridge'],
  {
    root: true,
  },
);

const NET = `na-${randomBytes(3).toString('hex')}`;
const BRIDGE = `ba${randomBytes(3).toString('hex')}`;
const SUBNET = `10.${randomInt(100, 250)}.${randomInt(0, 256)}.0/24`;
/** The test's --state, and its pods' CNI container ids (tagged with that root: attachments.ts). */
let state: string;
const idOf = (pod: string) => taggedCniId(rootTagOf(state, NET), `pod-${pod}`);

function footprint() {
  const save = execFileSync('iptables-save').toString().split('\n');
  return {
    bridge: existsSync(`/sys/class/net/${BRIDGE}`),
    veths: existsSync(`/sys/class/net/${BRIDGE}/brif`) ? readdirSync(`/sys/class/net/${BRIDGE}/brif`) : [],
    rules: save.filter((l) => l.includes(BRIDGE) || l.includes(SUBNET) || l.includes(`"${NET}"`)),
    // Chains of this test's pods even with no jump left to them (other tests' are not counted).
    dnatChains: ['u', 'r', 'a', 'b', 'c']
      .map((n) => `:${portmapChainOf(NET, idOf(n))} `)
      .filter((c) => save.some((l) => l.startsWith(c))),
  };
}

/** What the network keeps on the host between pods: its bridge (no veth on it) and its own rules. */
const networkKept = () => ({
  bridge: true,
  veths: [],
  rules: keptNetworkRules(NET, BRIDGE, SUBNET),
  dnatChains: [],
});

describe.skipIf(skip)('network adapter', () => {
  let work: string;
  let net: NetworkAdapter;
  let before: ReturnType<typeof footprint>;
  /** The attach/detach cycles while they run; `ending` stops them (afterAll). */
  let cycling: Promise<void> | undefined;
  let ending = false;
  /** The bridge's allocations (host-wide; the bridge is this test's own). */
  const allocations = () => bridgeAllocations(BRIDGE).length;
  const netns = (name: string) => join(state, 'netns', `pod-${name}`);
  const attach = async (name: string, ports = [] as Parameters<NetworkAdapter['attach']>[0]['ports']) => {
    if (!existsSync(netns(name))) await createNetns(netns(name));
    return net.attach({
      key: `pod-${name}`,
      owner: { kind: 'pod', name },
      netns: netns(name),
      ports,
      names: [name],
    });
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-netadapter-'));
    state = join(work, 'state');
    net = createNetworkAdapter({ settings: { name: NET, bridge: BRIDGE, subnet: SUBNET }, state });
    before = footprint();
  });

  afterAll(async () => {
    // A test that timed out goes on in the background: the cycles stop before the pods are detached
    // (one attached after its detach here kept the network in use, and net.remove() refused).
    ending = true;
    await cycling?.catch(() => undefined);
    let after: ReturnType<typeof footprint>;
    let left: string[];
    try {
      for (const n of ['a', 'b', 'c', 'u', 'r']) {
        await net.detach(`pod-${n}`).catch(() => undefined);
        await removeNetns(netns(n)).catch(() => undefined);
      }
      await net.settled().catch(() => undefined); // no rewrite after the lock file goes below
      await net.remove();
    } finally {
      after = footprint();
      left = [
        ...(existsSync(join(state, 'network')) ? readdirSync(join(state, 'network')) : []),
        ...bridgeAllocations(BRIDGE),
      ];
      await removeTempRoot(work);
      await removeBridgeLockFile(BRIDGE);
    }
    expect(after).toEqual(before);
    expect(left).toEqual([]);
  });

  it('a published UDP port reaches the pod from 127.0.0.1 and from the host address', async () => {
    const port = await freePort();
    await attach('u', [{ hostPort: port, containerPort: 5300, protocol: 'udp', hostIP: '' }]);
    const server = `const s = require('node:dgram').createSocket('udp4');
      s.on('message', (m) => process.stdout.write(m)); s.bind(5300, () => process.stdout.write('ready\\n'));`;
    const child = spawn('nsenter', [`--net=${netns('u')}`, process.execPath, '-e', server], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let got = '';
    child.stdout.on('data', (b: Buffer) => {
      got += b.toString();
    });
    const sock = createSocket('udp4');
    const hostAddress = /\bsrc (\S+)/.exec(
      execFileSync('ip', ['-4', 'route', 'get', '1.1.1.1']).toString(),
    )?.[1];
    try {
      for (let i = 0; i < 100 && !got.includes('ready\n'); i++) await new Promise((r) => setTimeout(r, 50));
      for (const [target, text] of [
        ['127.0.0.1', 'via-loopback\n'],
        [hostAddress as string, 'via-host-address\n'],
      ] as const) {
        for (let i = 0; i < 50 && !got.includes(text); i++) {
          sock.send(text, port, target);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      sock.close();
      child.kill();
    }
    expect([...new Set(got.split('\n').filter(Boolean))]).toEqual([
      'ready',
      'via-loopback',
      'via-host-address',
    ]);
    await net.detach('pod-u');
    await removeNetns(netns('u'));
    // The last pod gone: nothing of it left (veth, DNAT chain, IPAM state), the network kept.
    expect(footprint()).toEqual(networkKept());
    expect(existsSync(join(state, 'network', NET))).toBe(false);
  }, 60_000);

  it('a removal takes the pod port rules away in one iptables-restore and its veth in one ip, without portmap or bridge DEL', async () => {
    // The real tools, each call recorded: were the restore's lines not exactly portmap's rules, it
    // would be refused and portmap's DEL would show in the list.
    const calls: string[] = [];
    const tools: NetworkTools = {
      run: (cmd, args, ...rest) => {
        calls.push(`${cmd} ${args.join(' ')}`);
        return HOST_TOOLS.run(cmd, args, ...rest);
      },
      plugin: (c) => {
        calls.push(`${c.type} ${c.command}`);
        return HOST_TOOLS.plugin(c);
      },
      save: (f) => {
        calls.push(`save ${f}`);
        return HOST_TOOLS.save(f);
      },
      restore: (f, lines) => {
        if (lines.length > 0) calls.push(`restore ${f}: ${lines.length} lines`);
        return HOST_TOOLS.restore(f, lines);
      },
    };
    const counted = createNetworkAdapter({
      settings: { name: NET, bridge: BRIDGE, subnet: SUBNET },
      state,
      tools,
    });
    // Below the ephemeral range: a port there that another test's server took (it asked for port 0)
    // is a host listener, which the attach refuses to shadow (ERR_PORT_CONFLICT).
    const base = await freePortRun(16);
    // 16 TCP ports (two multiport jumps) and an SCTP one: three jumps to the pod's chain.
    const ports = [
      ...Array.from({ length: 16 }, (_, i) => ({
        hostPort: base + i,
        containerPort: 8000 + i,
        protocol: 'tcp' as const,
        hostIP: '',
      })),
      { hostPort: base, containerPort: 53, protocol: 'sctp' as const, hostIP: '127.0.0.1' },
    ];
    await createNetns(netns('r'));
    const ready = await counted.attach({
      key: 'pod-r',
      owner: { kind: 'pod', name: 'r' },
      netns: netns('r'),
      ports,
      names: ['r'],
    });
    const chain = portmapChainOf(NET, idOf('r'));
    const jumps = () =>
      execFileSync('iptables-save', ['-t', 'nat'])
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('-A CNI-HOSTPORT-DNAT ') && l.endsWith(`-j ${chain}`));
    expect(jumps()).toHaveLength(3);
    // The network and its rules were kept from the test before, and this root swept its strays on
    // this boot (rules-swept.ts): no save; the bridge plugin, and the port rules in one restore (the
    // network's 6 rules and the 2 entry jumps checked, its chain, 3 rules a port, 3 jumps), portmap
    // not run.
    expect(calls).toEqual(['bridge ADD', 'restore 4: 63 lines']);
    calls.length = 0;
    const [veth] = hostVethsOf(ready.result ?? {}, BRIDGE);
    expect(footprint().veths).toEqual([veth]);
    await counted.detach('pod-r');
    await counted.settled();
    // The bridge plugin's DEL done here (two Go programs, itself and host-local, where `ip` is one
    // process): the veth and the address gone before the namespace is.
    expect(calls).toEqual(['restore 4: 5 lines', `ip link del ${veth}`]);
    expect(footprint().veths).toEqual([]);
    expect((await readAllocations(ipamStoreOf(NETWORK_LOCK_DIR, BRIDGE).dir)).map((a) => a.id)).not.toContain(
      idOf('r'),
    );
    await removeNetns(netns('r'));
    expect(jumps()).toEqual([]);
    expect(footprint()).toEqual(networkKept());
  }, 60_000);

  it("a pod's port rules made in one restore are portmap's own, rule for rule", async () => {
    // The same pod attached twice: once as berth makes its rules, once with that restore refused
    // so that the real portmap ADD makes them; the two sets, the pod's address aside, are equal.
    const base = await freePortRun(26);
    const ports = [
      { hostPort: base, containerPort: 80, protocol: 'tcp' as const, hostIP: '' },
      { hostPort: base + 1, containerPort: 53, protocol: 'tcp' as const, hostIP: '127.0.0.1' },
      { hostPort: base + 2, containerPort: 81, protocol: 'tcp' as const, hostIP: '0.0.0.0' },
      { hostPort: base + 3, containerPort: 82, protocol: 'sctp' as const, hostIP: '' },
      { hostPort: base + 4, containerPort: 83, protocol: 'tcp' as const, hostIP: '::1' }, // another family: no rule
      ...Array.from({ length: 16 }, (_, i) => ({
        hostPort: base + 10 + i,
        containerPort: 9000 + i,
        protocol: 'tcp' as const,
        hostIP: '',
      })),
    ];
    const chain = portmapChainOf(NET, idOf('p'));
    const made: string[][] = [];
    const plugins: string[] = [];
    const recording: NetworkTools['plugin'] = (c) => {
      plugins.push(`${c.type} ${c.command}`);
      return HOST_TOOLS.plugin(c);
    };
    for (const refuse of [false, true]) {
      const tools: NetworkTools = {
        ...HOST_TOOLS,
        plugin: recording,
        restore: (f, lines) =>
          refuse && lines.some((l) => l.line.startsWith(`:${chain}`))
            ? Promise.reject(new Error('refused by the test'))
            : HOST_TOOLS.restore(f, lines),
      };
      const adapter = createNetworkAdapter({
        settings: { name: NET, bridge: BRIDGE, subnet: SUBNET },
        state,
        tools,
      });
      await createNetns(netns('p'));
      const a = await adapter.attach({
        key: 'pod-p',
        owner: { kind: 'pod', name: 'p' },
        netns: netns('p'),
        ports,
        names: ['p'],
      });
      made.push(
        execFileSync('iptables-save', ['-t', 'nat'])
          .toString()
          .split('\n')
          .filter((l) => l.includes(chain))
          .map((l) => l.replaceAll(`${a.ip}:`, 'POD:')),
      );
      await adapter.detach('pod-p');
      await removeNetns(netns('p'));
    }
    // A pod with a UDP port is left to portmap's ADD (it also clears the port's conntrack entries).
    const udp = createNetworkAdapter({
      settings: { name: NET, bridge: BRIDGE, subnet: SUBNET },
      state,
      tools: { ...HOST_TOOLS, plugin: recording },
    });
    await createNetns(netns('p'));
    await udp.attach({
      key: 'pod-p',
      owner: { kind: 'pod', name: 'p' },
      netns: netns('p'),
      ports: [{ hostPort: base + 1, containerPort: 53, protocol: 'udp', hostIP: '' }],
      names: ['p'],
    });
    await udp.detach('pod-p');
    await removeNetns(netns('p'));
    // portmap's ADD ran twice: for the refused restore, and for the UDP port.
    expect(plugins.filter((p) => p.startsWith('portmap'))).toEqual(['portmap ADD', 'portmap ADD']);
    expect(made[0]).toEqual(made[1]);
    // Not two empty sets: 3 rules for each IPv4 port (the one on ::1 has none), and 3 jumps (20
    // TCP ports make two multiport jumps, the ::1 port in them as portmap puts it there; SCTP one).
    expect(made[0]?.filter((l) => l.startsWith(`-A ${chain} `))).toHaveLength(20 * 3);
    expect(made[0]?.filter((l) => l.startsWith('-A CNI-HOSTPORT-DNAT '))).toHaveLength(3);
    expect(footprint()).toEqual(networkKept());
  }, 60_000);

  it('network remove: refused while a pod is on the network, then takes the bridge and its rules away; the next pod makes them again', async () => {
    await attach('a');
    const refused = await net.remove().then(
      () => undefined,
      (e: { code?: string; message?: string }) => [e.code, e.message],
    );
    expect(refused).toEqual(['ERR_NETWORK_IN_USE', `network ${NET} is in use: 1 on it: pod a`]);
    expect(footprint()).toEqual({ ...networkKept(), veths: footprint().veths });
    expect(footprint().veths).toHaveLength(1);
    await net.detach('pod-a');
    await removeNetns(netns('a'));
    expect(footprint()).toEqual(networkKept());
    await net.remove();
    expect(footprint()).toEqual(before);
    await net.remove(); // idempotent: nothing to remove
    expect(footprint()).toEqual(before);
    await attach('a');
    await net.detach('pod-a');
    await removeNetns(netns('a'));
    expect(footprint()).toEqual(networkKept());
  }, 60_000);

  it('1,000 attach/detach cycles beside two pods, then a reboot: the allocations are what is attached now', async () => {
    await attach('a');
    await attach('b');
    cycling = (async () => {
      for (let i = 0; i < 1000 && !ending; i++) {
        await attach('c');
        await net.detach('pod-c');
      }
    })();
    await cycling;
    expect(allocations()).toBe(2);
    // A reboot: every namespace (and its veth) gone, --state wiped; the pods are attached again.
    // /run/berth-networks, where the bridge's allocations are, is kept here (a real reboot clears
    // it too), as when --state alone is wiped: the root's own allocations left there are given back.
    for (const n of ['a', 'b', 'c']) await removeNetns(netns(n));
    await rm(state, { recursive: true, force: true });
    expect(allocations()).toBe(2);
    const a = await attach('a');
    const b = await attach('b');
    expect(allocations()).toBe(2);
    expect((await net.list()).map((x) => [x.key, x.ip])).toEqual([
      ['pod-a', a.ip],
      ['pod-b', b.ip],
    ]);
  }, 600_000);
});
