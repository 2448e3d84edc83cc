// A bridge's ports as netlink says them (`ip -j`), not sysfs (which shows the links of the
// namespace that mounted /sys): the answers, from real `ip -j` output of iproute2 6.1, mean what
// /sys/class/net/BRIDGE/brif meant: no such link, or a link that is not a bridge, is no bridge
// (so `network rm` never deletes a `bridge: eth0`); a port is listed only under its own master;
// output that is not a link list is an error, never "no ports". The real `ip` answers the
// read-only questions for a link that does not exist and one that is not a bridge.
import { describe, expect, it } from 'vitest';
import { BerthError } from '../../src/lib/errors.js';
import { bridgePorts, bridgePortsFrom, hasBridge, type RunTool } from '../../src/network/bridge-links.js';
import { findOnPath, runTool } from '../../src/runtime/tool.js';

/** `ip -j -d link show dev berth0` (iproute2 6.1), info_data cut to its first fields. */
const BRIDGE_SELF =
  '[{"ifindex":46476,"ifname":"berth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"d2:2b:f8:9c:53:4b","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"bridge","info_data":{"forward_delay":1500,"hello_time":200,"max_age":2000,"ageing_time":30000,"stp_state":0,"priority":32768,"vlan_filtering":0,"bridge_id":"8000.d2:2b:f8:9c:53:4b","nf_call_iptables":0,"nf_call_ip6tables":0,"nf_call_arptables":0}},"inet6_addr_gen_mode":"eui64","num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536}]\n';
/** `ip -j link show master berth0` with one pod on it. */
const ONE_PORT =
  '[{"ifindex":46493,"link_index":2,"ifname":"vethb81b0a42","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","master":"berth0","operstate":"UP","linkmode":"DEFAULT","group":"default","link_type":"ether","address":"12:da:99:9a:be:1e","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0}]\n';
/** `ip -j -d link show dev lo`: a link with no linkinfo (a plain device). */
const LO_SELF =
  '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","promiscuity":0,"allmulti":0,"min_mtu":0,"max_mtu":0,"inet6_addr_gen_mode":"eui64","num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536}]\n';
const ABSENT = { absent: true } as const;

/** A runner that answers each `ip` argv from a table and records what was asked. */
function fakeIp(answers: Record<string, string | Error>) {
  const asked: string[] = [];
  const run = (async (cmd: string, args: string[]) => {
    const argv = [cmd, ...args].join(' ');
    asked.push(argv);
    const a = answers[argv];
    if (a === undefined) throw new Error(`unexpected: ${argv}`);
    if (a instanceof Error) throw a;
    return { stdout: a, stderr: '' };
  }) as RunTool;
  return { run, asked };
}
/** What runTool rejects with when `ip` fails (its stderr's last lines in the message). */
const ipFailed = (stderr: string) =>
  new BerthError('ERR_NETWORK', 'internal', `reading links: ip failed: ${stderr}`);

describe('a bridge and its ports from ip -j', () => {
  it('a bridge with a veth lists it; an empty bridge lists none', () => {
    expect(bridgePortsFrom('berth0', { stdout: BRIDGE_SELF }, { stdout: ONE_PORT })).toEqual([
      'vethb81b0a42',
    ]);
    expect(bridgePortsFrom('berth0', { stdout: BRIDGE_SELF }, { stdout: '[]\n' })).toEqual([]);
  });

  it('no such link, or one that is not a bridge, is no bridge (undefined, as sysfs had no brif)', () => {
    expect(bridgePortsFrom('berth0', ABSENT, ABSENT)).toBeUndefined();
    // `ip link show master lo` prints [] (lo has no ports): lo is still not a bridge.
    expect(bridgePortsFrom('lo', { stdout: LO_SELF }, { stdout: '[]\n' })).toBeUndefined();
    // The bridge went between the two questions.
    expect(bridgePortsFrom('berth0', { stdout: BRIDGE_SELF }, ABSENT)).toBeUndefined();
  });

  it('hostile output: a link of another master is not a port; what is not a link list is an error', () => {
    const other = ONE_PORT.replace('"master":"berth0"', '"master":"cni0"');
    expect(bridgePortsFrom('berth0', { stdout: BRIDGE_SELF }, { stdout: other })).toEqual([]);
    for (const bad of ['', 'Device "berth0" does not exist.', '{"ifname":"x"}', '[{"mtu":1500}]', 'null'])
      expect(() => bridgePortsFrom('berth0', { stdout: BRIDGE_SELF }, { stdout: bad })).toThrow();
    expect(() => bridgePortsFrom('berth0', { stdout: BRIDGE_SELF }, { stdout: '[{"mtu":1500}]' })).toThrow(
      expect.objectContaining({ code: 'ERR_NETWORK', message: 'ip -j printed a link without a name' }),
    );
  });

  it('asks netlink twice at once; a missing device is an answer, any other failure is thrown', async () => {
    const present = fakeIp({
      'ip -j -d link show dev berth0': BRIDGE_SELF,
      'ip -j link show master berth0': ONE_PORT,
    });
    expect(await bridgePorts('berth0', present.run)).toEqual(['vethb81b0a42']);
    expect(present.asked).toEqual(['ip -j -d link show dev berth0', 'ip -j link show master berth0']);
    // iproute2 6.1's own words for a device that does not exist, for each question.
    const absent = fakeIp({
      'ip -j -d link show dev berth0': ipFailed('Device "berth0" does not exist.'),
      'ip -j link show master berth0': ipFailed('Error: argument "berth0" is wrong: Device does not exist'),
    });
    expect(await bridgePorts('berth0', absent.run)).toBeUndefined();
    expect(await hasBridge('berth0', absent.run)).toBe(false);
    const denied = fakeIp({
      'ip -j -d link show dev berth0': ipFailed('Cannot open netlink socket: Permission denied'),
      'ip -j link show master berth0': ONE_PORT,
    });
    await expect(bridgePorts('berth0', denied.run)).rejects.toThrow(
      'reading links: ip failed: Cannot open netlink socket: Permission denied',
    );
  });

  it.skipIf(findOnPath('ip') === 'ip')('the real ip: a missing link and lo are no bridge', async () => {
    const name = `bx${process.pid % 100000}nope`;
    expect(await bridgePorts(name, runTool)).toBeUndefined();
    expect(await hasBridge(name, runTool)).toBe(false);
    expect(await bridgePorts('lo', runTool)).toBeUndefined();
  });
});
