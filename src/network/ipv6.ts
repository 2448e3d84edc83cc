// IPv6 addresses and subnets as the network's settings name them (`fd89::/64`): parsed to a
// 128-bit number to check the prefix and host bits and to find the gateway (the subnet's first
// host, as for IPv4), and printed back in the short form. Pure.
import { isIPv6 } from 'node:net';

/** `fd89::1` → 128-bit number, or undefined when it is not an IPv6 address (no zone, no IPv4 tail). */
export function parseIpv6(text: string): bigint | undefined {
  if (!isIPv6(text) || text.includes('%') || text.includes('.')) return undefined;
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (all.length !== 8) return undefined;
  return all.reduce((n, g) => (n << 16n) + BigInt(Number.parseInt(g, 16)), 0n);
}

/** The short form (RFC 5952: lower case, the longest run of zero groups as `::`). */
export function formatIpv6(n: bigint): string {
  const g = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(16 * (7 - i))) & 0xffffn));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

export interface Ipv6Subnet {
  base: bigint;
  prefix: number;
}

/** The subnet's base and prefix, or a reason it is not one (host bits set, prefix out of range). */
export function parseIpv6Subnet(cidr: string): Ipv6Subnet | string {
  const m = /^([0-9A-Fa-f:]+)\/([0-9]{1,3})$/.exec(cidr);
  const base = m ? parseIpv6(m[1] as string) : undefined;
  const prefix = m ? Number(m[2]) : Number.NaN;
  // host-local needs room for a gateway and pods; /120 leaves 254 of them, as a /24 does.
  if (base === undefined || !(prefix >= 48 && prefix <= 120))
    return `must be an IPv6 CIDR with a prefix from /48 to /120`;
  const hostBits = (1n << BigInt(128 - prefix)) - 1n;
  if ((base & hostBits) !== 0n)
    return `has host bits set (the network is ${formatIpv6(base & ~hostBits)}/${prefix})`;
  return { base, prefix };
}
