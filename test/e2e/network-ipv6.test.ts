// Dual stack, as root with the real CNI plugins, namespaces only (no traffic leaves the host): a
// network with an IPv6 subnet beside the IPv4 one gives each pod an address from both, lists both
// in the hosts files, lets a pod reach another over IPv6, publishes a port over IPv6 (reached at
// the host's own IPv6 address on the bridge), keeps an ip6tables masquerade rule for the subnet
// while the bridge is up, and leaves nothing behind in either family.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetworkAdapter, type NetworkAdapter } from '../../src/network/adapter.js';
import { rootTagOf, taggedCniId } from '../../src/network/attachments.js';
import { portmapChainOf } from '../../src/network/conflist.js';
import { gateway6Of } from '../../src/network/settings.js';
import { HOST_TOOLS } from '../../src/network/tools.js';
import { createNetns, removeNetns } from '../../src/runtime/netns.js';
import { freePort } from '../helpers/free-port.js';
import { bridgeAllocations, removeBridgeLockFile } from '../helpers/network-kept.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const ipv6Off = (() => {
  try {
    return readFileSync('/proc/sys/net/ipv6/conf/all/disable_ipv6', 'utf8').trim() !== '0';
  } catch {
    return true; // no IPv6 in this kernel
  }
})();
const skip =
  missingPrereqs(['iptables-save', 'ip6tables-save', 'ip', 'unshare', 'nsenter', '/usr/lib/cni/bridge'], {
    root: true,
  }) || ipv6Off;

const NET = `n6-${randomBytes(3).toString('hex')}`;
const BRIDGE = `b6${randomBytes(3).toString('hex')}`;
const SUBNET = `10.${randomInt(100, 250)}.${randomInt(0, 256)}.0/24`;
// Groups written as addresses print them (no leading zeros), so PREFIX6 matches the pods' addresses.
const SUBNET6 = `fd${randomBytes(1).toString('hex')}:${randomInt(0x1000, 0x10000).toString(16)}:${randomInt(1, 0xffff).toString(16)}::/64`;
const PREFIX6 = SUBNET6.replace(/::\/64$/, ':');
const GATEWAY6 = gateway6Of(SUBNET6) as string;
/** The test's --state; pod a's own DNAT chain (portmap's, of its CNI id: attachments.ts), in either family. */
let state: string;
const dnatA = () => portmapChainOf(NET, taggedCniId(rootTagOf(state, NET), 'pod-a'));

function footprint() {
  const mine = (tool: string) =>
    execFileSync(tool)
      .toString()
      .split('\n')
      .filter(
        (l) =>
          l.includes(BRIDGE) ||
          l.includes(SUBNET) ||
          l.includes(PREFIX6) || // the subnet's and each pod's IPv6 address (portmap's DNAT to it)
          l.includes(`"${NET}"`) ||
          l.includes(dnatA()),
      );
  return {
    bridge: existsSync(`/sys/class/net/${BRIDGE}`),
    rules: mine('iptables-save'),
    rules6: mine('ip6tables-save'),
  };
}

/** A TCP server in a namespace that answers `text` to every connection; resolves once it listens. */
function serveIn(netns: string, port: number, text: string) {
  const code = `require('node:net').createServer((c) => c.end(${JSON.stringify(text)}))
    .listen(${port}, '::', () => process.stdout.write('ready\\n'));`;
  const child = spawn('nsenter', [`--net=${netns}`, process.execPath, '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
    child.on('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  return { child, ready };
}

/** What a TCP connection to [host]:port reads, from a namespace (or the host). */
function readFrom(netns: string | undefined, host: string, port: number): string {
  const code = `const s = require('node:net').connect({host: ${JSON.stringify(host)}, port: ${port}, timeout: 3000});
    let got = ''; s.on('data', (b) => { got += b; }); s.on('end', () => process.stdout.write(got));
    s.on('timeout', () => process.exit(3)); s.on('error', (e) => { console.error(e.message); process.exit(2); });`;
  const argv = netns ? ['nsenter', `--net=${netns}`, process.execPath] : [process.execPath];
  return execFileSync(argv[0] as string, [...argv.slice(1), '-e', code], { timeout: 10_000 }).toString();
}

describe.skipIf(skip)('dual-stack network', () => {
  let work: string;
  let net: NetworkAdapter;
  let before: ReturnType<typeof footprint>;
  const netns = (name: string) => join(state, 'netns', `pod-${name}`);
  const hostsFile = (name: string) => join(work, `${name}.hosts`);
  const servers: Array<ReturnType<typeof serveIn>['child']> = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-net6-'));
    state = join(work, 'state');
    net = createNetworkAdapter({
      settings: { name: NET, bridge: BRIDGE, subnet: SUBNET, ipv6Subnet: SUBNET6 },
      state,
    });
    before = footprint();
  });

  afterAll(async () => {
    for (const s of servers) s.kill();
    for (const n of ['a', 'b']) {
      await net.detach(`pod-${n}`).catch(() => undefined);
      await removeNetns(netns(n)).catch(() => undefined);
    }
    await net.settled().catch(() => undefined); // no rewrite after the lock file goes below
    await net.remove();
    const after = footprint();
    const left = [
      ...(existsSync(join(state, 'network')) ? readdirSync(join(state, 'network')) : []),
      ...bridgeAllocations(BRIDGE),
    ];
    await removeTempRoot(work);
    await removeBridgeLockFile(BRIDGE);
    expect(after).toEqual(before);
    expect(left).toEqual([]);
  });

  it('pods get an address from each subnet, find each other by both, and reach each other over IPv6', async () => {
    expect(before).toEqual({ bridge: false, rules: [], rules6: [] });
    const attached = [];
    for (const n of ['a', 'b']) {
      await createNetns(netns(n));
      attached.push(
        await net.attach({
          key: `pod-${n}`,
          owner: { kind: 'pod', name: n },
          netns: netns(n),
          ports: [],
          names: [n],
          hostsFile: hostsFile(n),
        }),
      );
    }
    const [a, b] = attached as [(typeof attached)[0], (typeof attached)[0]];
    for (const p of [a, b]) {
      expect(p.ips).toEqual([p.ip, expect.stringMatching(/:/)]);
      expect(p.ips?.[1]?.startsWith(PREFIX6)).toBe(true);
    }
    const [a6, b6] = [a.ips?.[1] as string, b.ips?.[1] as string];
    expect(readFileSync(hostsFile('b'), 'utf8')).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
        `${b.ip}\tb\n${b6}\tb\n# pods on this network\n${a.ip}\ta\n${a6}\ta\n`,
    );
    // a joined first: its file names b once the peers' rewrite after b's attach is done.
    await net.settled();
    expect(readFileSync(hostsFile('a'), 'utf8')).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
        `${a.ip}\ta\n${a6}\ta\n# pods on this network\n${b.ip}\tb\n${b6}\tb\n`,
    );
    // The outbound NAT for the IPv6 subnet is there while the bridge is.
    expect(execFileSync('ip6tables', ['-t', 'nat', '-S', 'POSTROUTING']).toString()).toContain(
      `-A POSTROUTING -s ${SUBNET6} ! -d ${SUBNET6} -m comment --comment "berth network ${NET}" -j MASQUERADE\n`,
    );
    // README (Dual stack): the bridge plugin turns on IPv6 forwarding, and the bridge is made with
    // duplicate address detection off, so its IPv6 address (the pods' gateway) is never tentative.
    expect(readFileSync('/proc/sys/net/ipv6/conf/all/forwarding', 'utf8')).toBe('1\n');
    expect(readFileSync(`/proc/sys/net/ipv6/conf/${BRIDGE}/accept_dad`, 'utf8')).toBe('0\n');
    expect(execFileSync('ip', ['-6', 'addr', 'show', 'dev', BRIDGE, 'tentative']).toString()).toBe('');
    const server = serveIn(netns('a'), 8080, 'from-a-over-v6');
    servers.push(server.child);
    await server.ready;
    expect(readFrom(netns('b'), a6, 8080)).toBe('from-a-over-v6');
  }, 60_000);

  it('a published port is reached over IPv6 at the host address on the bridge, and goes with the pod', async () => {
    const port = await freePort();
    await net.detach('pod-a'); // attached again with a port
    const a = await net.attach({
      key: 'pod-a',
      owner: { kind: 'pod', name: 'a' },
      netns: netns('a'),
      ports: [{ hostPort: port, containerPort: 8080, protocol: 'tcp', hostIP: '' }],
      names: ['a'],
      hostsFile: hostsFile('a'),
    });
    expect(a.ips?.length).toBe(2);
    expect(readFrom(undefined, GATEWAY6, port)).toBe('from-a-over-v6');
    expect(readFrom(undefined, '127.0.0.1', port)).toBe('from-a-over-v6');
    // Its IPv6 DNAT is there while it is attached, and goes with it (as the IPv4 one).
    expect(execFileSync('ip6tables-save', ['-t', 'nat']).toString()).toMatch(
      new RegExp(`^:${dnatA()} `, 'm'),
    );
    // Its port rules go in one restore per family (no portmap DEL: the lines are its rules exactly),
    // and its veth and both its addresses are berth's to remove (no bridge DEL: unplug.ts); the
    // footprint at the end holds that nothing of it is left.
    const calls: string[] = [];
    const counted = createNetworkAdapter({
      settings: net.settings,
      state,
      tools: {
        ...HOST_TOOLS,
        plugin: (c) => {
          calls.push(`${c.type} ${c.command}`);
          return HOST_TOOLS.plugin(c);
        },
        restore: (f, lines) => {
          if (lines.length > 0) calls.push(`restore ${f}`);
          return HOST_TOOLS.restore(f, lines);
        },
      },
    });
    await counted.detach('pod-a');
    expect(calls).toEqual(['restore 4', 'restore 6']);
    await net.detach('pod-b');
    // The last pod gone: nothing of its ports in either family; the network's own rules stay until removed.
    const kept = footprint();
    expect(
      [...kept.rules, ...kept.rules6].filter((l) => l.includes(dnatA()) || l.includes(a.ips?.[1] as string)),
    ).toEqual([]);
    expect(kept.rules6.filter((l) => l.startsWith('-A POSTROUTING -s'))).toEqual([
      `-A POSTROUTING -s ${SUBNET6} ! -d ${SUBNET6} -m comment --comment "berth network ${NET}" -j MASQUERADE`,
    ]);
    await net.remove();
    expect(footprint()).toEqual(before);
  }, 60_000);
});
