// The network berth puts pods on (host config `network:`), checked and with its defaults: a Linux
// bridge, an IPv4 subnet the host-local IPAM hands addresses from, the gateway (the bridge's own
// address, the subnet's first), and an IPv6 subnet beside it when configured. One network per host; its name is what `berth network ls` shows.
// Pure.
import { BerthError } from '../lib/errors.js';
import { formatIpv6, parseIpv6Subnet } from './ipv6.js';

export interface NetworkSettings {
  name: string;
  /** Linux interface name of the bridge (at most 15 characters). */
  bridge: string;
  /** IPv4 CIDR, e.g. 10.89.0.0/16. */
  subnet: string;
  /** IPv6 CIDR beside it (dual stack), e.g. fd89::/64; none: IPv4 only. */
  ipv6Subnet?: string;
}

/** Works on a fresh host: a bridge and a private range podman (10.88) and Docker (172.17) do not use. */
export const DEFAULT_NETWORK: NetworkSettings = { name: 'berth', bridge: 'berth0', subnet: '10.89.0.0/16' };

const BRIDGE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

function bad(message: string): BerthError {
  return new BerthError('ERR_NETWORK_CONFIG', 'invalid', message);
}

/** `a.b.c.d` → 32-bit number, or undefined when it is not a dotted quad. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) < 256))
    return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export const formatIpv4 = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** The subnet's base address and prefix length; its host bits must be zero. */
export function parseSubnet(cidr: string): { base: number; prefix: number } {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(cidr);
  const base = m ? parseIpv4(m[1] as string) : undefined;
  const prefix = m ? Number(m[2]) : Number.NaN;
  if (base === undefined || !(prefix >= 8 && prefix <= 30))
    throw bad(`network subnet "${cidr}" must be an IPv4 CIDR with a prefix from /8 to /30`);
  if (base % 2 ** (32 - prefix) !== 0)
    throw bad(
      `network subnet "${cidr}" has host bits set (the network is ${formatIpv4(base - (base % 2 ** (32 - prefix)))}/${prefix})`,
    );
  return { base, prefix };
}

/** The bridge's address: the subnet's first host. */
export function gatewayOf(subnet: string): string {
  return formatIpv4(parseSubnet(subnet).base + 1);
}

export function checkNetworkSettings(s: NetworkSettings): NetworkSettings {
  if (!NAME.test(s.name)) throw bad(`network name "${s.name}" must be lower-case letters, digits and "-"`);
  if (!BRIDGE.test(s.bridge))
    throw bad(
      `network bridge "${s.bridge}" must be an interface name: at most 15 letters, digits, "_", "." or "-"`,
    );
  parseSubnet(s.subnet);
  if (s.ipv6Subnet === undefined) return s;
  const v6 = parseIpv6Subnet(s.ipv6Subnet);
  if (typeof v6 === 'string') throw bad(`network ipv6Subnet "${s.ipv6Subnet}" ${v6}`);
  // Kept in the short form the plugins, ip6tables-save and the kernel print (`fd39:0880::/64` is
  // `fd39:880::/64` to them), so whatever berth compares with what they say is the same text.
  return { ...s, ipv6Subnet: `${formatIpv6(v6.base)}/${v6.prefix}` };
}

/** The bridge's IPv6 address: the IPv6 subnet's first host (undefined when there is no IPv6 subnet). */
export function gateway6Of(ipv6Subnet: string | undefined): string | undefined {
  const v6 = ipv6Subnet === undefined ? undefined : parseIpv6Subnet(ipv6Subnet);
  return v6 === undefined || typeof v6 === 'string' ? undefined : formatIpv6(v6.base + 1n);
}
