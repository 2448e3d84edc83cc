// A CNI plugin's ADD result is checked before berth uses any of it (network/cni-result.ts): its
// address goes into every peer's hosts file and into the pod's port rules (iptables-restore lines),
// its interface names into `ip link del` and /sys paths. A result with a line break in an address
// wrote a line of the plugin's choosing into a peer's hosts file (another pod's name to another
// address) and a rule of its own into the restore; one outside the subnet (127.0.0.1/8) was
// recorded as the pod's address and a published port's DNAT sent the port to the host's loopback;
// `ips` that is no list threw a TypeError (no code). Each is now ERR_CNI naming the plugin and the
// field, and nothing is recorded ready or written. The adapter's tools start nothing here.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNetworkAdapter, type NetworkAdapter } from '../../src/network/adapter.js';
import { checkAddResult } from '../../src/network/cni-result.js';
import type { RuleLine } from '../../src/network/iptables.js';
import type { NetworkTools } from '../../src/network/tools.js';

const NET = { name: 'rnet', bridge: 'rbr0', subnet: '10.77.0.0/24' };
const DUAL = { ...NET, ipv6Subnet: 'fd77::/64' };

/** What Debian's bridge plugin (1.1.1) answers, with host-local's address. */
const real = (address = '10.77.0.5/24') => ({
  cniVersion: '1.0.0',
  interfaces: [
    { name: 'rbr0', mac: '62:1c:18:37:8f:60' },
    { name: 'veth1a2b3c4d', mac: 'aa:bb:cc:dd:ee:ff' },
    { name: 'eth0', mac: '0a:58:0a:4d:00:05', sandbox: '/run/berth/netns/x' },
  ],
  ips: [{ interface: 2, address, gateway: '10.77.0.1' }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: {},
});

describe('an ADD result', () => {
  it('as the bridge plugin gives it (dual stack too) is taken as it is; nothing printed is none', () => {
    expect(checkAddResult(NET, 'bridge', 'id', real())).toEqual(real());
    const dual = { ...real(), ips: [...real().ips, { interface: 2, address: 'fd77::5/64' }] };
    expect(checkAddResult(DUAL, 'bridge', 'id', dual)).toEqual(dual);
    expect(checkAddResult(NET, 'bridge', 'id', undefined)).toBeUndefined();
  });

  it.each([
    [
      'a line break in the address',
      { ips: [{ address: '10.77.0.5/24\n-I INPUT 1 -j ACCEPT' }] },
      'ips[0].address',
    ],
    ['the host loopback', { ips: [{ address: '127.0.0.1/8' }] }, 'ips[0].address'],
    ['an address outside the subnet', real('10.78.0.5/24'), 'ips[0].address'],
    [
      'a prefix other than the subnet’s (a hairpin mark from every source)',
      real('10.77.0.5/0'),
      'ips[0].address',
    ],
    ['the bridge’s own address', real('10.77.0.1/24'), 'ips[0].address'],
    ['IPv6 on an IPv4-only network', { ips: [{ address: 'fd77::5/64' }] }, 'ips[0].address'],
    ['an address that is no string', { ips: [{ address: 7 }] }, 'ips[0].address'],
    ['ips that is no list', { ips: '10.77.0.5/24' }, 'ips'],
    [
      'a host interface name that is a path',
      { ...real(), interfaces: [{ name: '../../../etc' }] },
      'interfaces[0].name',
    ],
    ['a result that is no object', ['10.77.0.5/24'], '["10.77.0.5/24"] is not an object'],
  ])('with %s is ERR_CNI at its field', (_, raw, field) => {
    let err: unknown;
    try {
      checkAddResult(NET, 'bridge', 'berth-x-pod-a', raw);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERR_CNI' });
    expect((err as Error).message.startsWith(`CNI bridge ADD for berth-x-pod-a: result ${field}`)).toBe(true);
    expect((err as Error).message).not.toContain('\n');
  });

  it('dual stack: an IPv6 address outside the IPv6 subnet', () => {
    const raw = { ips: [{ address: '10.77.0.5/24' }, { address: 'fd78::5/64' }] };
    expect(() => checkAddResult(DUAL, 'bridge', 'id', raw)).toThrow(
      /result ips\[1\]\.address "fd78::5\/64" is not an address in fd77::\/64/,
    );
  });
});

describe('an attach whose bridge plugin answers a hostile result', () => {
  let work: string;
  let net: NetworkAdapter;
  let answer: (n: number) => unknown;
  const restored: RuleLine[] = [];
  const hosts = (pod: string) => join(work, `${pod}.hosts`);

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-cni-result-'));
    restored.length = 0;
    let n = 1;
    const tools: NetworkTools = {
      run: async () => ({ stdout: '[]', stderr: '' }),
      plugin: async (c) => (c.type === 'bridge' && c.command === 'ADD' ? answer(++n) : undefined),
      save: async () => ({ rules: [], chains: new Set() }),
      restore: async (_f, lines) => {
        restored.push(...lines);
      },
    };
    net = createNetworkAdapter({
      settings: NET,
      state: join(work, 'state'),
      lockDir: join(work, 'locks'),
      binDir: join(work, 'none'),
      sysNet: join(work, 'sys'),
      tools,
    });
  });
  afterEach(async () => {
    await net.settled().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  });

  const attach = (pod: string, hostPort?: number) =>
    net.attach({
      key: `pod-${pod}`,
      owner: { kind: 'pod', name: pod },
      netns: join(work, 'no-netns'),
      ports: hostPort ? [{ hostPort, containerPort: 80, protocol: 'tcp', hostIP: '' }] : [],
      names: [pod, `${pod}.default`],
      hostsFile: hosts(pod),
    });

  it("writes no line of the plugin's into a peer's hosts file nor a rule into the restore", async () => {
    answer = (n) => ({ ips: [{ address: `10.77.0.${n}/24`, gateway: '10.77.0.1' }] });
    await attach('web');
    answer = (n) => ({
      ips: [{ address: `10.77.0.${n}\n10.66.6.6\tweb /24\n-I INPUT 1 -s 10.66.6.6 -j ACCEPT` }],
    });
    await expect(attach('evil', 8080)).rejects.toMatchObject({ code: 'ERR_CNI' });
    await net.settled().catch(() => undefined);
    expect(readFileSync(hosts('web'), 'utf8')).not.toContain('10.66.6.6');
    expect(restored.filter((l) => l.line.includes('10.66.6.6') || l.line.includes('\n'))).toEqual([]);
    expect(existsSync(hosts('evil')) ? readFileSync(hosts('evil'), 'utf8') : '').not.toContain('10.66.6.6');
    expect((await net.list()).find((a) => a.key === 'pod-evil')?.state).not.toBe('ready');
  });

  it('records no address outside the subnet and makes no DNAT to it', async () => {
    answer = () => ({ ips: [{ address: '127.0.0.1/8' }] });
    await expect(attach('loop', 8081)).rejects.toMatchObject({ code: 'ERR_CNI' });
    expect(restored.map((l) => l.line).join('\n')).not.toContain('127.0.0.1:80');
    expect((await net.list()).some((a) => a.ip === '127.0.0.1')).toBe(false);
  });
});
