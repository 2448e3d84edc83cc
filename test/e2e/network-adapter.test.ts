// The network adapter alone, as root with the real CNI plugins: a published UDP port reaches a
// listener in the pod's namespace (from 127.0.0.1 and from the host's address), address
// allocations never leak over many attach/detach cycles and a simulated reboot, the bridge and the
// network's rules stay after the last pod with nothing of any pod left (veths, DNAT chains, IPAM
// files), and once the network is removed the host is as it was.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetworkAdapter, NETWORK_LOCK_DIR, type NetworkAdapter } from '../../src/network/adapter.js';
import { portmapChainOf } from '../../src/network/conflist.js';
import { createNetns, removeNetns } from '../../src/runtime/netns.js';
import { keptNetworkRules } from '../helpers/network-kept.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { freePort } from '../helpers/registry.js';

const skip = missingPrereqs(
  ['iptables', 'iptables-save', 'ip', 'unshare', 'nsenter', '/usr/lib/cni/bridge'],
  {
    root: true,
  },
);

const NET = `na-${randomBytes(3).toString('hex')}`;
const BRIDGE = `ba${randomBytes(3).toString('hex')}`;
const SUBNET = `10.${randomInt(100, 250)}.${randomInt(0, 256)}.0/24`;

function footprint() {
  const save = execFileSync('iptables-save').toString().split('\n');
  return {
    bridge: existsSync(`/sys/class/net/${BRIDGE}`),
    veths: existsSync(`/sys/class/net/${BRIDGE}/brif`) ? readdirSync(`/sys/class/net/${BRIDGE}/brif`) : [],
    rules: save.filter((l) => l.includes(BRIDGE) || l.includes(SUBNET) || l.includes(`"${NET}"`)),
    // Chains of this test's pods even with no jump left to them (other tests' are not counted).
    dnatChains: ['u', 'a', 'b', 'c']
      .map((n) => `:${portmapChainOf(NET, `berth-pod-${n}`)} `)
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
  let state: string;
  let net: NetworkAdapter;
  let before: ReturnType<typeof footprint>;
  const ipam = () => join(state, 'network', NET, 'ipam', NET);
  const allocations = () =>
    existsSync(ipam()) ? readdirSync(ipam()).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)).length : 0;
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
    for (const n of ['a', 'b', 'c', 'u']) {
      await net.detach(`pod-${n}`).catch(() => undefined);
      await removeNetns(netns(n)).catch(() => undefined);
    }
    await net.remove();
    const after = footprint();
    const left = existsSync(join(state, 'network')) ? readdirSync(join(state, 'network')) : [];
    await rm(work, { recursive: true, force: true });
    await rm(join(NETWORK_LOCK_DIR, 'locks', `bridge-${Buffer.from(BRIDGE).toString('hex')}.lock`), {
      force: true,
    });
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
    for (let i = 0; i < 1000; i++) {
      await attach('c');
      await net.detach('pod-c');
    }
    expect(allocations()).toBe(2);
    // A reboot: every namespace (and its veth) gone, --state wiped; the pods are attached again.
    for (const n of ['a', 'b', 'c']) await removeNetns(netns(n));
    await rm(state, { recursive: true, force: true });
    const a = await attach('a');
    const b = await attach('b');
    expect(allocations()).toBe(2);
    expect((await net.list()).map((x) => [x.key, x.ip])).toEqual([
      ['pod-a', a.ip],
      ['pod-b', b.ip],
    ]);
  }, 600_000);
});
