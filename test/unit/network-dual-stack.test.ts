// The pure parts of dual stack and of the host rules: IPv6 subnets in the network settings
// (checked, with their gateway), the IPAM ranges and routes the plugin chain asks for, both
// addresses from an ADD result and in the hosts file, and the iptables changes a snapshot calls
// for (none when the rules are all there: an attach of a second pod runs no restore).
import { describe, expect, it } from 'vitest';
import { addressesOf, hostVethsOf, pluginChain } from '../../src/network/conflist.js';
import { networkRules, ruleChanges } from '../../src/network/host-rules.js';
import { parseSave, restoreText } from '../../src/network/iptables.js';
import { formatIpv6, parseIpv6, parseIpv6Subnet } from '../../src/network/ipv6.js';
import { hostsFileText } from '../../src/network/names.js';
import { checkNetworkSettings, gateway6Of } from '../../src/network/settings.js';

const NET = { name: 'berth', bridge: 'berth0', subnet: '10.89.0.0/16', ipv6Subnet: 'fd89::/64' };

describe('IPv6 subnets', () => {
  it('parses and prints addresses in the short form', () => {
    expect(parseIpv6('fd89::1')).toBe((0xfd89n << 112n) + 1n);
    expect(formatIpv6((0xfd89n << 112n) + 1n)).toBe('fd89::1');
    expect(formatIpv6(parseIpv6('2001:db8:0:0:1:0:0:1') as bigint)).toBe('2001:db8::1:0:0:1');
    expect(formatIpv6(0n)).toBe('::');
    for (const bad of ['', 'fd89', '10.0.0.1', '::ffff:10.0.0.1', 'fe80::1%eth0', 'fd89:::1', 'g::1'])
      expect(parseIpv6(bad)).toBeUndefined();
  });

  it('a subnet has no host bits and a prefix from /48 to /120; its gateway is its first host', () => {
    expect(parseIpv6Subnet('fd89:1:2::/64')).toEqual({ base: parseIpv6('fd89:1:2::'), prefix: 64 });
    expect(parseIpv6Subnet('fd89::1/64')).toBe('has host bits set (the network is fd89::/64)');
    for (const bad of ['fd89::/47', 'fd89::/121', 'fd89::', '10.0.0.0/8', 'fd89::/64/1', 'fd89::/064x'])
      expect(parseIpv6Subnet(bad)).toBe('must be an IPv6 CIDR with a prefix from /48 to /120');
    expect(gateway6Of('fd89:1:2::/64')).toBe('fd89:1:2::1');
    expect(gateway6Of(undefined)).toBeUndefined();
  });

  it('the host config refuses a bad ipv6Subnet with a coded error, and takes a good one', () => {
    expect(checkNetworkSettings(NET)).toEqual(NET);
    expect(() => checkNetworkSettings({ ...NET, ipv6Subnet: 'fd89::5/64' })).toThrow(
      expect.objectContaining({
        code: 'ERR_NETWORK_CONFIG',
        message: 'network ipv6Subnet "fd89::5/64" has host bits set (the network is fd89::/64)',
      }),
    );
    // Hostile: text that would be passed on to the plugin's configuration or a rule.
    for (const bad of ['fd89::/64 -j ACCEPT', 'fd89::/64\n', '"fd89::/64"', '../../etc/64'])
      expect(() => checkNetworkSettings({ ...NET, ipv6Subnet: bad })).toThrow(
        expect.objectContaining({ code: 'ERR_NETWORK_CONFIG' }),
      );
  });
  it('a non-canonical ipv6Subnet (leading zeros, upper case, zero groups) is kept in the short form', () => {
    // ip6tables-save, host-local and the bridge print the short form: the rules berth writes and
    // reads back, and what ls/inspect show, must name the subnet the same way.
    for (const text of [
      'fd39:0880::/64',
      'FD39:880::/64',
      'fd39:880:0:0::/64',
      'fd39:0880:0000:0000:0000:0000:0000:0000/64',
    ])
      expect(checkNetworkSettings({ ...NET, ipv6Subnet: text }).ipv6Subnet).toBe('fd39:880::/64');
    const net = checkNetworkSettings({ ...NET, ipv6Subnet: 'FD39:0880::/64' });
    expect(networkRules(net, 6)[0]?.spec.slice(0, 4)).toEqual(['-s', 'fd39:880::/64', '!', '-d']);
    expect(pluginChain(net, '/s/ipam', [])[0]?.ipam).toMatchObject({
      ranges: [[{ subnet: '10.89.0.0/16' }], [{ subnet: 'fd39:880::/64' }]],
    });
  });
});

describe('dual stack in the plugin chain and the names', () => {
  it('host-local gets a range set per family and a default route for each', () => {
    const [bridge] = pluginChain(NET, '/s/ipam', []);
    expect(bridge?.ipam).toEqual({
      type: 'host-local',
      ranges: [[{ subnet: '10.89.0.0/16' }], [{ subnet: 'fd89::/64' }]],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
      dataDir: '/s/ipam',
    });
    const { ipv6Subnet: _, ...v4only } = NET;
    expect(pluginChain(v4only, '/s/ipam', [])[0]?.ipam).toEqual({
      type: 'host-local',
      ranges: [[{ subnet: '10.89.0.0/16' }]],
      routes: [{ dst: '0.0.0.0/0' }],
      dataDir: '/s/ipam',
    });
  });

  it('an ADD result gives both addresses, IPv4 first, without prefix lengths', () => {
    expect(
      addressesOf({ ips: [{ address: 'fd89::5/64' }, { address: '10.89.0.5/16', gateway: '10.89.0.1' }] }),
    ).toEqual(['10.89.0.5', 'fd89::5']);
    expect(addressesOf({})).toEqual([]);
  });

  it("an ADD result names the pod's host-side veth: not the bridge, not the interface in the pod", () => {
    // What detach compares with the bridge's ports to know it removes the bridge's last pod.
    const result = {
      interfaces: [
        { name: 'berth0', mac: '02:00:00:00:00:01' },
        { name: 'veth1a2b3c4d', mac: '02:00:00:00:00:02' },
        { name: 'eth0', mac: '02:00:00:00:00:03', sandbox: '/run/berth/netns/x' },
      ],
    };
    expect(hostVethsOf(result, 'berth0')).toEqual(['veth1a2b3c4d']);
    // A record without a result (killed mid-ADD): none known, so never taken for the last.
    expect(hostVethsOf({}, 'berth0')).toEqual([]);
  });

  it('the hosts file lists every address of each pod under its names', () => {
    expect(
      hostsFileText(
        { ip: '10.89.0.5', ips: ['10.89.0.5', 'fd89::5'], names: ['web', 'web.default'] },
        [{ ip: '10.89.0.6', ips: ['10.89.0.6', 'fd89::6'], names: ['db', 'db.default'] }],
        [],
      ),
    ).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
        '10.89.0.5\tweb web.default\nfd89::5\tweb web.default\n' +
        '# pods on this network\n10.89.0.6\tdb db.default\nfd89::6\tdb db.default\n',
    );
  });
});

describe('host rules from one snapshot', () => {
  const saved = (lines: string[]) =>
    parseSave(
      ['*nat', ':POSTROUTING ACCEPT [0:0]', ':CNI-DN-abc - [0:0]', ...lines, 'COMMIT'].join('\n') +
        '\n*filter\n:FORWARD DROP [0:0]\nCOMMIT\n*mangle\n:X - [0:0]\n-A X -j ACCEPT\nCOMMIT\n',
    );

  it('reads chains and rules of nat and filter only', () => {
    const s = saved(['-A POSTROUTING -j MASQUERADE']);
    expect([...s.chains]).toEqual(['nat:POSTROUTING', 'nat:CNI-DN-abc', 'filter:FORWARD']);
    expect(s.rules).toEqual([{ table: 'nat', line: '-A POSTROUTING -j MASQUERADE' }]);
  });

  it('IPv6 rules are the masquerade, forwarding and mark ones (no loopback guard: ::1 never comes from an interface)', () => {
    expect(networkRules(NET, 6).map((r) => [r.table, r.chain, r.spec.slice(0, 2)])).toEqual([
      ['nat', 'POSTROUTING', ['-s', 'fd89::/64']],
      ['filter', 'FORWARD', ['-i', 'berth0']],
      ['filter', 'FORWARD', ['-o', 'berth0']],
      ['nat', 'BERTH-MARK-berth0', ['-m', 'comment']],
      ['nat', 'POSTROUTING', ['-o', 'berth0']],
    ]);
    expect(networkRules({ ...NET, ipv6Subnet: undefined }, 6)).toEqual([]);
    expect(networkRules(NET, 4).map((r) => r.chain)).toEqual([
      'POSTROUTING',
      'FORWARD',
      'FORWARD',
      'BERTH-MARK-berth0',
      'POSTROUTING',
      'INPUT',
    ]);
  });

  it("portmap marks through the network's own chain, which the first attach declares before filling it", () => {
    const port = { hostPort: 8080, containerPort: 80, protocol: 'tcp' as const, hostIP: '' };
    expect(pluginChain(NET, '/s/ipam', [port])[1]).toMatchObject({
      type: 'portmap',
      snat: true,
      externalSetMarkChain: 'BERTH-MARK-berth0',
    });
    const changes = ruleChanges(NET, 4, saved([]));
    expect(changes[0]).toEqual({ table: 'nat', line: ':BERTH-MARK-berth0 - [0:0]' });
    expect(changes.find((c) => c.line.startsWith('-I BERTH-MARK-berth0 1 '))?.line).toBe(
      '-I BERTH-MARK-berth0 1 -m comment --comment "berth network berth" -j MARK --set-xmark 0x2000/0x2000',
    );
    expect(changes.find((c) => c.line.includes('--mark'))?.line).toBe(
      '-I POSTROUTING 1 -o berth0 -m mark --mark 0x2000/0x2000 -m comment --comment "berth network berth" -j MASQUERADE',
    );
  });

  it('nothing to change when every rule is there; a partial set is deleted and made again', () => {
    const whole = networkRules(NET, 6).map((r) => ({
      table: r.table,
      line: `-A ${r.chain} ${r.spec.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}`,
    }));
    const snap = parseSave(restoreText(whole));
    expect(ruleChanges(NET, 6, snap)).toEqual([]);
    const partial = parseSave(`*nat\n:BERTH-MARK-berth0 - [0:0]\n${restoreText(whole.slice(0, 1)).slice(5)}`);
    const changes = ruleChanges(NET, 6, partial);
    const first = whole[0] as { line: string };
    expect(changes[0]).toEqual({ table: 'nat', line: first.line.replace('-A ', '-D ') });
    expect(changes.slice(1).map((c) => c.line.split(' ').slice(0, 3).join(' '))).toEqual([
      '-I POSTROUTING 1',
      '-I FORWARD 1',
      '-I FORWARD 1',
      '-I BERTH-MARK-berth0 1',
      '-I POSTROUTING 1',
    ]);
  });

  it("one name on two bridges (another root's, or this network's former bridge): each bridge's rules are its own", () => {
    const linesOf = (net: typeof NET) =>
      networkRules(net, 4).map((r) => ({
        table: r.table,
        line: `-A ${r.chain} ${r.spec.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}`,
      }));
    const other = { ...NET, bridge: 'xb2', subnet: '10.238.2.0/24' };
    // The first bridge's six rules do not stand for the second's: all six are made, none deleted.
    const first = parseSave(`*nat\n:BERTH-MARK-berth0 - [0:0]\n${restoreText(linesOf(NET)).slice(5)}`);
    const changes = ruleChanges(other, 4, first);
    expect(changes.filter((c) => c.line.startsWith('-D '))).toEqual([]);
    expect(changes.filter((c) => c.line.startsWith('-I ')).map((c) => c.line)).toHaveLength(6);
    expect(changes.some((c) => c.line.startsWith('-I INPUT 1 -i xb2 -d 127.0.0.0/8'))).toBe(true);
    // Both there: nothing to do for either.
    const both = parseSave(
      `*nat\n:BERTH-MARK-berth0 - [0:0]\n:BERTH-MARK-xb2 - [0:0]\n${restoreText([...linesOf(NET), ...linesOf(other)]).slice(5)}`,
    );
    expect([ruleChanges(NET, 4, both), ruleChanges(other, 4, both)]).toEqual([[], []]);
  });
});
