// Two berth roots (two --state directories) on one host, configured with the same network (name,
// bridge and subnet), as root with the real CNI plugins: each pod gets an address no other pod on
// the bridge has (the allocations are host-wide per bridge), a pod named alike in both roots keeps
// its own published-port rules through the other root's attach, repair and `network rm`, and one
// root's removal leaves the other's pod, address and rules as they were. A pod set up by the
// version before (its record without a CNI id, its address in --state's own IPAM directory) keeps
// its address from new pods and gives it back when removed. The bridge, subnet and ports are this
// test's own; nothing is left on the host afterwards (allocations under /run/berth-networks too).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetworkAdapter, NETWORK_LOCK_DIR, type NetworkAdapter } from '../../src/network/adapter.js';
import { type Attachment, writeAttachment } from '../../src/network/attachments.js';
import { addressOf, type CniResult, pluginInput, portmapChainOf } from '../../src/network/conflist.js';
import { HOST_TOOLS } from '../../src/network/tools.js';
import { createNetns, removeNetns } from '../../src/runtime/netns.js';
import { freePort } from '../helpers/free-port.js';
import { forgetRulesSwept, keptNetworkRules, removeBridgeLockFile } from '../helpers/network-kept.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['iptables', 'iptables-save', 'ip', 'nsenter', '/usr/lib/cni/bridge'], {
  root: true,
});

const NET = `n2-${randomBytes(3).toString('hex')}`;
const BRIDGE = `b2${randomBytes(3).toString('hex')}`;
const SUBNET = `10.${randomInt(100, 250)}.${randomInt(0, 256)}.0/24`;
const PREFIX = SUBNET.replace(/\.0\/24$/, '');
const settings = { name: NET, bridge: BRIDGE, subnet: SUBNET };

/** The bridge's allocations host-wide (host-local's files, named by address), whoever made them. */
const allocations = () => {
  const dir = join(NETWORK_LOCK_DIR, 'ipam', BRIDGE);
  return existsSync(dir) ? readdirSync(dir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
};

describe.skipIf(skip)('two berth roots on one bridge', () => {
  let work: string;
  const roots: Record<'a' | 'b', { state: string; net: NetworkAdapter; port: number }> = {} as never;
  const servers: ChildProcess[] = [];
  const netns = (root: 'a' | 'b', pod: string) => join(roots[root].state, 'netns', `pod-${pod}`);
  const attach = async (root: 'a' | 'b', pod: string, ports: Attachment['ports'] = []) => {
    if (!existsSync(netns(root, pod))) await createNetns(netns(root, pod));
    return roots[root].net.attach({
      key: `pod-${pod}`,
      owner: { kind: 'pod', name: pod },
      netns: netns(root, pod),
      ports,
      names: [pod],
    });
  };
  const web = (root: 'a' | 'b') =>
    attach(root, 'web', [{ hostPort: roots[root].port, containerPort: 8080, protocol: 'tcp', hostIP: '' }]);
  /** An HTTP server answering `text` on port 8080 in the pod's namespace. */
  const serve = async (root: 'a' | 'b', pod: string, text: string) => {
    const code = `require('node:http').createServer((q, s) => s.end(${JSON.stringify(text)})).listen(8080, () => process.stdout.write('ready\\n'))`;
    const child = spawn('nsenter', [`--net=${netns(root, pod)}`, process.execPath, '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    servers.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
      child.on('exit', () => reject(new Error(`the server in ${root}'s ${pod} exited`)));
    });
  };
  /** What `url` answers, on a connection of its own (a kept one would still go to a pod's former veth). */
  const get = (url: string) =>
    new Promise<string>((resolve) => {
      const req = httpGet(url, { agent: false, timeout: 3000 }, (res) => {
        let text = '';
        res.on('data', (b: Buffer) => {
          text += b.toString();
        });
        res.on('end', () => resolve(text));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => resolve(`failed: ${err.message}`));
    });
  /** What each pod answers at its address, then at its published port on 127.0.0.1. */
  const answers = async (pods: Attachment[]) => [
    ...(await Promise.all(pods.map((p) => get(`http://${p.ip}:8080/`)))),
    ...(await Promise.all(pods.map((p) => get(`http://127.0.0.1:${p.ports[0]?.hostPort}/`)))),
  ];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-two-roots-'));
    for (const r of ['a', 'b'] as const) {
      const state = join(work, `state-${r}`);
      roots[r] = { state, net: createNetworkAdapter({ settings, state }), port: await freePort() };
    }
  });

  afterAll(async () => {
    for (const s of servers) s.kill();
    let left: string[] = [];
    let rules: string[] = [];
    let store = true;
    try {
      for (const r of ['a', 'b'] as const)
        for (const pod of ['web', 'solo', 'old', 'new', 'boot']) {
          await roots[r].net.detach(`pod-${pod}`).catch(() => undefined);
          await removeNetns(netns(r, pod)).catch(() => undefined);
        }
      left = allocations();
      rules = execFileSync('iptables-save')
        .toString()
        .split('\n')
        .filter((l) => l.includes(BRIDGE) || l.includes(SUBNET) || l.includes(`"${NET}"`));
      await roots.a.net.remove();
      store = existsSync(join(NETWORK_LOCK_DIR, 'ipam', BRIDGE));
    } finally {
      await removeTempRoot(work);
      await removeBridgeLockFile(BRIDGE);
    }
    expect(left).toEqual([]);
    expect(rules).toEqual(keptNetworkRules(NET, BRIDGE, SUBNET));
    expect(store).toBe(false); // an empty allocation directory goes with the last allocation
  });

  it('a pod named alike in each root: distinct addresses, and each keeps its port rules through the other root', async () => {
    const a = await web('a');
    await serve('a', 'web', 'from-a');
    const b = await web('b');
    await serve('b', 'web', 'from-b');
    // And one only b has: a's records never name it.
    const port = { hostPort: await freePort(), containerPort: 8080, protocol: 'tcp' as const, hostIP: '' };
    const solo = await attach('b', 'solo', [port]);
    await serve('b', 'solo', 'from-solo');
    expect(new Set([a.ip, b.ip, solo.ip]).size).toBe(3);
    expect(allocations().sort()).toEqual([a.ip, b.ip, solo.ip].sort());
    const all = ['from-a', 'from-b', 'from-solo', 'from-a', 'from-b', 'from-solo'];
    expect(await answers([a, b, solo])).toEqual(all);
    // Each root's check of the rules (the daemon's every resync) finds nothing of its own lost and
    // takes nothing of the other's.
    const repaired = [...(await roots.a.net.repairRules()), ...(await roots.b.net.repairRules())];
    expect(repaired.map((r) => [r.strays, r.holders.length, r.families])).toEqual([
      [[], 0, []],
      [[], 0, []],
    ]);
    expect(await answers([a, b, solo])).toEqual(all);
    // Another attach in a (its sweep of stray rules) leaves b's rules.
    await attach('a', 'new');
    expect(await answers([a, b, solo])).toEqual(all);
    await roots.a.net.detach('pod-new');
    // a's pod goes: b's keep their addresses (no one else is given them) and their rules.
    await roots.a.net.detach('pod-web');
    expect(allocations().sort()).toEqual([b.ip, solo.ip].sort());
    expect((await roots.b.net.list()).map((x) => x.ip)).toEqual([solo.ip, b.ip]);
    expect(await answers([b, solo])).toEqual(['from-b', 'from-solo', 'from-b', 'from-solo']);
    // `network rm` in a (nothing of a's on it) is refused for b's veth, and takes none of b's rules.
    const refused = await roots.a.net.remove().then(
      () => 'removed',
      (e: { code?: string }) => e.code,
    );
    expect(refused).toBe('ERR_NETWORK_IN_USE');
    expect(await answers([b, solo])).toEqual(['from-b', 'from-solo', 'from-b', 'from-solo']);
    // a's web again: an address other than b's, and b's rules kept.
    const again = await web('a');
    expect([again.ip === b.ip, again.ip === solo.ip]).toEqual([false, false]);
    expect(await answers([again, b, solo])).toEqual(all);
    await roots.a.net.detach('pod-web');
    await roots.b.net.detach('pod-web');
    await roots.b.net.detach('pod-solo');
    expect(allocations()).toEqual([]);
  }, 120_000);

  it('a pod set up by the previous version keeps its address from new pods and gives it back when removed', async () => {
    // As the version before made it: host-local's files in --state's own IPAM directory, the
    // container id without a root's tag, a record without `cniId`.
    const { state } = roots.a;
    const oldIpam = join(state, 'network', NET, 'ipam');
    await mkdir(oldIpam, { recursive: true });
    await createNetns(netns('a', 'old'));
    const conf = {
      type: 'bridge',
      bridge: BRIDGE,
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
      ipam: {
        type: 'host-local',
        ranges: [[{ subnet: SUBNET }]],
        routes: [{ dst: '0.0.0.0/0' }],
        dataDir: oldIpam,
      },
    };
    const result = (await HOST_TOOLS.plugin({
      binDir: '/usr/lib/cni',
      type: 'bridge',
      command: 'ADD',
      containerId: 'berth-pod-old',
      netns: netns('a', 'old'),
      ifName: 'eth0',
      stdin: pluginInput(settings, conf),
    })) as CniResult;
    const ip = addressOf(result) as string;
    expect(ip.startsWith(`${PREFIX}.`)).toBe(true);
    const old: Attachment = {
      key: 'pod-old',
      owner: { kind: 'pod', name: 'old' },
      state: 'ready',
      netns: netns('a', 'old'),
      ports: [],
      ip,
      ips: [ip],
      result,
      names: ['old'],
      aliases: [],
    };
    await writeAttachment(join(state, 'network', NET, 'attachments'), old);
    await serve('a', 'old', 'from-old');
    // The upgraded berth starts: an adapter of its own (the old allocations are moved in once each).
    roots.a.net = createNetworkAdapter({ settings, state });
    // New pods, of this root and of the other, get other addresses.
    const fresh = await attach('a', 'new');
    const other = await attach('b', 'new');
    expect([fresh.ip === ip, other.ip === ip]).toEqual([false, false]);
    expect(allocations().sort()).toEqual([ip, fresh.ip, other.ip].sort());
    expect(existsSync(oldIpam)).toBe(false); // its allocation moved to the host-wide directory
    expect(await get(`http://${ip}:8080/`)).toBe('from-old');
    // Moved in once per adapter: a later operation reads no old directory (one planted now stays).
    await mkdir(join(oldIpam, NET), { recursive: true });
    await writeFile(join(oldIpam, NET, `${PREFIX}.250`), 'berth-pod-ghost\r\neth0');
    // Its removal gives the address back: the next pod may have it.
    await roots.a.net.detach('pod-old');
    expect(existsSync(join(oldIpam, NET, `${PREFIX}.250`))).toBe(true);
    expect(allocations().sort()).toEqual([fresh.ip, other.ip].sort());
    await roots.b.net.detach('pod-new');
    await roots.a.net.detach('pod-new');
    expect(allocations()).toEqual([]);
  }, 60_000);

  it('port rules of the version before restored at boot (no allocation names their id) go at the next attach, not sending its port elsewhere', async () => {
    // As `netfilter-persistent` restores a ruleset saved before the upgrade: `berth-pod-boot`'s
    // jump first in CNI-HOSTPORT-DNAT, its DNAT to an address host-local (its directory under /run
    // empty) may give anyone now.
    const port = await freePort();
    const chain = portmapChainOf(NET, 'berth-pod-boot');
    const nat = (...args: string[]) => execFileSync('iptables', ['-w', '-t', 'nat', ...args]);
    try {
      nat('-N', 'CNI-HOSTPORT-DNAT');
    } catch {
      // made by portmap already
    }
    nat('-N', chain);
    nat(
      '-A',
      chain,
      '-p',
      'tcp',
      '-m',
      'tcp',
      '--dport',
      `${port}`,
      '-j',
      'DNAT',
      '--to-destination',
      `${PREFIX}.250:8080`,
    );
    const comment = `dnat name: "${NET}" id: "berth-pod-boot"`;
    nat(
      '-I',
      'CNI-HOSTPORT-DNAT',
      '-p',
      'tcp',
      '-m',
      'comment',
      '--comment',
      comment,
      '-m',
      'multiport',
      '--dports',
      `${port}`,
      '-j',
      chain,
    );
    forgetRulesSwept(roots.a.state); // restored at boot: the root's sweep was on another boot
    const boot = await attach('a', 'boot', [
      { hostPort: port, containerPort: 8080, protocol: 'tcp', hostIP: '' },
    ]);
    await serve('a', 'boot', 'from-boot');
    expect(execFileSync('iptables-save', ['-t', 'nat']).toString()).not.toContain(chain);
    expect(await answers([boot])).toEqual(['from-boot', 'from-boot']);
    await roots.a.net.detach('pod-boot');
  }, 60_000);
});
