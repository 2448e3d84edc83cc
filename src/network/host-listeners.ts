// The host's own listening sockets (/proc/net/tcp, tcp6, udp, udp6 of berth's network namespace),
// and which of a pod's published ports would take their traffic: portmap's DNAT catches every
// packet to the port on a local address before any socket sees it, so a pod publishing 22 on an edge
// node would silently take the host's sshd off the network (and 127.0.0.1:22 with it). Docker and
// podman refuse such a port because they bind it; berth asks the kernel who listens. A TCP socket in
// LISTEN and an unconnected bound UDP socket count; SCTP is not listed there. Pure but for
// `readHostListeners`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PortMapping, PortProtocol } from './ports.js';

export interface HostListener {
  protocol: PortProtocol;
  /** As the kernel has it: `0.0.0.0`, `127.0.0.1`, `::`, `fd00::1`; an IPv4-mapped address as IPv4. */
  address: string;
  port: number;
}

const TCP_LISTEN = '0A';
const UDP_UNCONNECTED = '07';

/** One address of /proc/net/*: IPv4 as one little-endian word, IPv6 as four. */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => Number.parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  const isMapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255;
  if (isMapped) return bytes.slice(12).join('.');
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return canonicalIPv6(groups.join(':'));
}

/** An IPv6 address in its one short form (`fd00:0::1` is `fd00::1`), as a URL's host has it. */
function canonicalIPv6(a: string): string {
  try {
    return new URL(`http://[${a}]/`).hostname.slice(1, -1);
  } catch {
    return a; // not an address: compared as written
  }
}

/** The listeners in one /proc/net file's text. */
export function parseProcNet(text: string, protocol: 'tcp' | 'udp'): HostListener[] {
  const out: HostListener[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [, local, remote, state] = line.trim().split(/\s+/);
    if (!local || !remote || !state) continue;
    const wanted =
      protocol === 'tcp' ? state === TCP_LISTEN : state === UDP_UNCONNECTED && /^0+:0+$/.test(remote);
    const [addr, port] = local.split(':');
    if (!wanted || !addr || !port) continue;
    out.push({ protocol, address: decodeAddress(addr), port: Number.parseInt(port, 16) });
  }
  return out;
}

const everyAddress = (a: string) => a === '' || a === '0.0.0.0' || a === '::';
const sameForm = (a: string) => (a.includes(':') ? canonicalIPv6(a) : a);

/**
 * The families a published port's DNAT is made in (port-rules.ts): no host address, both on a
 * dual-stack network; an address of one family, that family, and IPv6 only on a dual-stack network.
 */
function portFamilies(hostIP: string, dualStack: boolean): Array<4 | 6> {
  if (hostIP === '') return dualStack ? [4, 6] : [4];
  return hostIP.includes(':') ? (dualStack ? [6] : []) : [4];
}

/** What a listener receives: `::` both families (unless IPV6_V6ONLY, which /proc does not show). */
const listenerFamilies = (address: string): Array<4 | 6> =>
  address === '::' ? [4, 6] : address.includes(':') ? [6] : [4];

/**
 * The first published port whose traffic a host listener would lose, with that listener: the same
 * port and protocol, a family both have, and the same address or either one on every address.
 */
export function findShadowedListener(
  ports: PortMapping[],
  listeners: HostListener[],
  dualStack: boolean,
): { port: PortMapping; listener: HostListener } | undefined {
  for (const port of ports) {
    const families = portFamilies(port.hostIP, dualStack);
    for (const l of listeners) {
      if (l.port !== port.hostPort || l.protocol !== port.protocol) continue;
      if (!listenerFamilies(l.address).some((f) => families.includes(f))) continue;
      if (everyAddress(port.hostIP) || everyAddress(l.address) || l.address === sameForm(port.hostIP))
        return { port, listener: l };
    }
  }
  return undefined;
}

/** The listeners of berth's network namespace; a file the kernel lacks (no IPv6) lists none. */
export async function readHostListeners(procNet = '/proc/self/net'): Promise<HostListener[]> {
  const read = (f: string) => readFile(join(procNet, f), 'utf8').catch(() => '');
  const [tcp, tcp6, udp, udp6] = await Promise.all(['tcp', 'tcp6', 'udp', 'udp6'].map(read));
  return [
    ...parseProcNet(tcp as string, 'tcp'),
    ...parseProcNet(tcp6 as string, 'tcp'),
    ...parseProcNet(udp as string, 'udp'),
    ...parseProcNet(udp6 as string, 'udp'),
  ];
}

/** `0.0.0.0:22/tcp`, `[::]:22/tcp`. */
export const describeListener = (l: HostListener) =>
  `${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}/${l.protocol}`;
