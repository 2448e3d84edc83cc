// A pod's published-port rules as portmap (Debian's containernetworking-plugins 1.1.1) makes them
// at ADD, and their removal in one `iptables-restore` per family instead of portmap's DEL. That DEL
// asks the host what berth already knows from the pod's record: its iptables' version, whether the
// nat table answers, whether its chain exists (making it to flush it), the rules of the host-wide
// CNI-HOSTPORT-DNAT chain (to find its jumps), then deletes them a process at a time, and makes and
// removes a chain of portmap before 0.7 that 1.1.1 never makes: some ten processes a family, most
// of a removal's cost. From a record whose ADD went through, berth names the pod's chain
// (`CNI-DN-` + sha512 of network and container id, conflist.ts) and the jumps to it (one per
// protocol and 15 ports, with portmap's comment, in its order). A restore is all or nothing and
// fails when one of them is missing or the chain is still jumped to from elsewhere (another
// portmap version's rules): then the plugin's own DEL runs, as before. Pure but for `removePortRules`.
import type { Attachment } from './attachments.js';
import { portmapChainOf } from './conflist.js';
import type { Family, RuleLine } from './iptables.js';
import type { PortMapping } from './ports.js';
import type { NetworkTools } from './tools.js';

/** portmap's host-wide chain of jumps to each container's DNAT chain. */
export const HOSTPORT_DNAT = 'CNI-HOSTPORT-DNAT';
/** multiport takes at most 15 ports: portmap makes a jump per 15. */
const MULTIPORT_MAX = 15;

/** The comment portmap puts on a container's jumps (over 255 characters: its first 253 and "...", as portmap cuts it). */
export function portmapComment(network: string, containerId: string): string {
  const text = `dnat name: "${network}" id: "${containerId}"`;
  return text.length <= 255 ? text : `${text.slice(0, 253)}...`;
}

/** The jumps portmap appends to CNI-HOSTPORT-DNAT for these ports, as its argv: protocols sorted, ports in order. */
export function portmapJumps(network: string, containerId: string, ports: PortMapping[]): string[][] {
  const chain = portmapChainOf(network, containerId);
  const comment = portmapComment(network, containerId);
  const protocols = [...new Set(ports.map((p) => p.protocol))].sort();
  return protocols.flatMap((protocol) => {
    const numbers = ports.filter((p) => p.protocol === protocol).map((p) => String(p.hostPort));
    const groups: string[][] = [];
    for (let i = 0; i < numbers.length; i += MULTIPORT_MAX) groups.push(numbers.slice(i, i + MULTIPORT_MAX));
    return groups.map((g) => [
      ...['-m', 'comment', '--comment', comment, '-m', 'multiport', '-p', protocol],
      ...['--destination-ports', g.join(','), '-j', chain],
    ]);
  });
}

/** One word of a restore line: quoted, with `"` and `\` escaped, when it has spaces or quotes. */
export const restoreWord = (w: string) => (/[\s"\\']/.test(w) ? `"${w.replace(/["\\]/g, '\\$&')}"` : w);

/** The restore lines that take a container's port rules away: its jumps, then its chain (pure). */
export function portRuleDeletions(network: string, containerId: string, ports: PortMapping[]): RuleLine[] {
  const chain = portmapChainOf(network, containerId);
  return [
    ...portmapJumps(network, containerId, ports).map((j) => ({
      table: 'nat' as const,
      line: `-D ${HOSTPORT_DNAT} ${j.map(restoreWord).join(' ')}`,
    })),
    { table: 'nat', line: `-F ${chain}` },
    { table: 'nat', line: `-X ${chain}` },
  ];
}

/** The families portmap made rules in: those of the pod's addresses (IPv6 only on a dual-stack network). */
export const portRuleFamilies = (a: Attachment): Family[] => {
  const ips = (a.result?.ips ?? []).map((i) => i.address);
  return [
    ...(ips.some((ip) => !ip.includes(':')) ? [4 as const] : []),
    ...(ips.some((ip) => ip.includes(':')) ? [6 as const] : []),
  ];
};

/**
 * Takes a ready record's port rules away, a restore per family at once: true when every family's
 * went (nothing is left of them), false when one was refused (that family unchanged).
 */
export async function removePortRules(tools: NetworkTools, network: string, a: Attachment): Promise<boolean> {
  const lines = portRuleDeletions(network, `berth-${a.key}`, a.ports);
  const families = portRuleFamilies(a);
  const done = await Promise.allSettled(families.map((f) => tools.restore(f, lines)));
  return families.length > 0 && done.every((d) => d.status === 'fulfilled');
}
