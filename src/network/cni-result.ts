// What berth takes from a CNI plugin's ADD result (the bridge plugin's, with host-local's
// addresses), checked before any of it is used: its addresses go into every peer's hosts file, into
// iptables-restore lines (a pod's DNAT target and hairpin mark source) and the probes, its
// interface names into `ip link del` and /sys paths. A result that is no object, an address that is
// not an IP with the subnet's prefix inside the network's subnet (an IPv6 one only on a dual-stack
// network; never the gateway), or an interface that is not a name the kernel gives, is one ERR_CNI
// naming the plugin and the field, before anything is recorded or written: a line break in an
// address would be a rule of its own in a restore and a line of its own in every peer's hosts
// file, and an address outside the subnet a published port's DNAT to the host itself or elsewhere.
// Pure.
import { isIPv4 } from 'node:net';
import { BerthError } from '../lib/errors.js';
import { isObject } from '../oci/descriptor.js';
import type { CniResult } from './conflist.js';
import { parseIpv6, parseIpv6Subnet } from './ipv6.js';
import { type NetworkSettings, parseIpv4, parseSubnet } from './settings.js';

/** An interface name as the kernel takes it (dev_valid_name): 1–15 bytes, no '/', ':' or space, not . or ... */
const IFNAME = /^(?!\.{1,2}$)[^/:\s]{1,15}$/;

/** At most this much of a bad value is quoted in the error. */
const QUOTED = 64;

const quote = (v: unknown) => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > QUOTED ? `${text.slice(0, QUOTED)}…` : text;
};

/** Why `address` (`IP/prefix`) is not a pod's address on `net`, or undefined when it is. */
function addressProblem(net: NetworkSettings, address: string): string | undefined {
  const m = /^([^/]+)\/([0-9]{1,3})$/.exec(address);
  const [ip, prefix] = m ? [m[1] as string, Number(m[2])] : ['', -1];
  if (isIPv4(ip)) {
    const sub = parseSubnet(net.subnet);
    const n = parseIpv4(ip);
    const size = 2 ** (32 - sub.prefix);
    if (n === undefined || Math.floor(n / size) * size !== sub.base || prefix !== sub.prefix)
      return `is not an address in ${net.subnet}`;
    if (n === sub.base + 1) return `is the bridge's own address`;
    return undefined;
  }
  const n = parseIpv6(ip);
  const sub = net.ipv6Subnet === undefined ? undefined : parseIpv6Subnet(net.ipv6Subnet);
  if (n === undefined || sub === undefined || typeof sub === 'string')
    return net.ipv6Subnet ? `is not an address in ${net.ipv6Subnet}` : `is not an address in ${net.subnet}`;
  const hostBits = (1n << BigInt(128 - sub.prefix)) - 1n;
  if ((n & ~hostBits) !== sub.base || prefix !== sub.prefix) return `is not an address in ${net.ipv6Subnet}`;
  if (n === sub.base + 1n) return `is the bridge's own address`;
  return undefined;
}

/**
 * The ADD result of plugin `plugin` for CNI id `containerId`, as berth uses it; undefined when it
 * printed nothing. Throws ERR_CNI at the first field that cannot be used.
 */
export function checkAddResult(
  net: NetworkSettings,
  plugin: string,
  containerId: string,
  raw: unknown,
): CniResult | undefined {
  const bad = (field: string, why: string) =>
    new BerthError(
      'ERR_CNI',
      'unavailable',
      `CNI ${plugin} ADD for ${containerId}: result ${field ? `${field} ` : ''}${why}`,
    );
  if (raw === undefined) return undefined;
  if (!isObject(raw)) throw bad('', `${quote(raw)} is not an object`);
  const { ips, interfaces } = raw;
  if (interfaces !== undefined) {
    if (!Array.isArray(interfaces)) throw bad('interfaces', 'is not a list');
    for (const [i, f] of interfaces.entries()) {
      if (!isObject(f)) throw bad(`interfaces[${i}]`, 'is not an object');
      if (typeof f.name !== 'string' || !IFNAME.test(f.name))
        throw bad(`interfaces[${i}].name`, `${quote(f.name)} is not an interface name`);
      for (const k of ['mac', 'sandbox'])
        if (f[k] !== undefined && typeof f[k] !== 'string')
          throw bad(`interfaces[${i}].${k}`, 'is not a string');
    }
  }
  if (ips !== undefined) {
    if (!Array.isArray(ips)) throw bad('ips', 'is not a list');
    for (const [i, e] of ips.entries()) {
      if (!isObject(e)) throw bad(`ips[${i}]`, 'is not an object');
      const why =
        typeof e.address === 'string' ? addressProblem(net, e.address) : 'is not an address (IP/prefix)';
      if (why) throw bad(`ips[${i}].address`, `${quote(e.address)} ${why}`);
    }
  }
  return raw as CniResult;
}
