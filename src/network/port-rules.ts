// A pod's published-port rules as portmap (Debian's containernetworking-plugins 1.1.1) makes them,
// made and removed by berth in one `iptables-restore` per family instead of portmap's ADD and DEL.
// portmap asks the host what berth already knows and changes it a process at a time: its ADD
// checks and appends each rule with its own iptables process (13 for one port, on an nf_tables host
// some 90 ms of a start); its DEL asks for its iptables' version, whether the nat table answers,
// whether its chain exists (making it to flush it), the rules of the host-wide CNI-HOSTPORT-DNAT
// chain (to find its jumps), then deletes them one by one. berth writes the same rules: the pod's
// chain (`CNI-DN-` + sha512 of network and container id, conflist.ts) with, per port in the pod's
// order, the hairpin and (IPv4) localhost marks and the DNAT, and the jumps to it (one per protocol
// and 15 ports, with portmap's comment, protocols sorted). A restore is all or nothing: when one is
// refused (another portmap version's rules, a host that lacks a match), portmap's own ADD or DEL
// runs, as before, and what it makes is the same. A pod with UDP ports is left to portmap's ADD
// (plugin-chain.ts): it also deletes the host's stale conntrack entries for them. Pure but for `addPortRules` and `removePortRules`.
import { writeFile } from 'node:fs/promises';
import { type Attachment, cniIdOf } from './attachments.js';
import { type CniResult, portmapChainOf } from './conflist.js';
import type { Family, RuleLine, RulesSnapshot } from './iptables.js';
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

/** Is an address the unspecified one (0.0.0.0, ::): portmap then matches no destination. */
const unspecified = (ip: string) => /^[0.:]+$/.test(ip);

/**
 * portmap's rules in the pod's chain for the family of `containerNet` (its address with the
 * subnet's prefix length, as the ADD result gives it), per port in order: the hairpin mark (from the
 * pod's subnet), the localhost mark (IPv4), then the DNAT; ports bound to a host address of the
 * other family are left out, as portmap leaves them (pure).
 */
export function portmapChainRules(containerNet: string, markChain: string, ports: PortMapping[]): string[][] {
  const v6 = containerNet.includes(':');
  const ip = containerNet.split('/')[0] as string;
  return ports.flatMap((p) => {
    if (p.hostIP && p.hostIP.includes(':') !== v6) return [];
    const base = ['-p', p.protocol, '--dport', String(p.hostPort)];
    if (p.hostIP && !unspecified(p.hostIP)) base.push('-d', p.hostIP);
    const to = v6 ? `[${ip}]:${p.containerPort}` : `${ip}:${p.containerPort}`;
    return [
      [...base, '-s', containerNet, '-j', markChain],
      ...(v6 ? [] : [[...base, '-s', '127.0.0.1', '-j', markChain]]),
      [...base, '-j', 'DNAT', '--to-destination', to],
    ];
  });
}

/** portmap's jumps into CNI-HOSTPORT-DNAT for traffic to a local address, from both nat entry chains. */
export const HOSTPORT_FROM = ['PREROUTING', 'OUTPUT'];
export const HOSTPORT_ENTRIES = HOSTPORT_FROM.map(
  (chain) => `-A ${chain} -m addrtype --dst-type LOCAL -j ${HOSTPORT_DNAT}`,
);

/**
 * The restore lines that make a pod's port rules in one family, as portmap's ADD leaves them: its
 * chain declared (made, or emptied when a killed attempt left it), its rules, its jumps, and the
 * host-wide entry jumps the snapshot lacks. CNI-HOSTPORT-DNAT itself must exist (declaring a chain
 * in a restore empties it, and other pods' jumps live there). Pure.
 */
export function portRuleAdditions(
  o: { network: string; containerId: string; markChain: string; containerNet: string; ports: PortMapping[] },
  snapshot: RulesSnapshot,
): RuleLine[] {
  const chain = portmapChainOf(o.network, o.containerId);
  const line = (words: string[]) => words.map(restoreWord).join(' ');
  return [
    { table: 'nat', line: `:${chain} - [0:0]` },
    ...HOSTPORT_ENTRIES.filter((e) => !snapshot.rules.some((r) => r.table === 'nat' && r.line === e)).map(
      (e) => ({ table: 'nat' as const, line: e }),
    ),
    ...portmapChainRules(o.containerNet, o.markChain, o.ports).map((r) => ({
      table: 'nat' as const,
      line: `-A ${chain} ${line(r)}`,
    })),
    ...portmapJumps(o.network, o.containerId, o.ports).map((j) => ({
      table: 'nat' as const,
      line: `-A ${HOSTPORT_DNAT} ${line(j)}`,
    })),
  ];
}

/** A snapshot with CNI-HOSTPORT-DNAT and its entry jumps, as a restore that checks them (`-C`) finds them. */
const ENTRIES_THERE: RulesSnapshot = {
  rules: HOSTPORT_ENTRIES.map((line) => ({ table: 'nat', line })),
  chains: new Set([`nat:${HOSTPORT_DNAT}`]),
};

/**
 * A pod's port rules made without reading the host's rules first: `checks` (`-C` lines: the
 * network's rules), the entry jumps into CNI-HOSTPORT-DNAT checked, then the additions. The
 * restore makes nothing unless every check holds (pure).
 */
export function checkedPortRuleAdditions(
  o: Parameters<typeof portRuleAdditions>[0],
  checks: RuleLine[],
): RuleLine[] {
  return [
    ...checks,
    ...HOSTPORT_ENTRIES.map((e) => ({ table: 'nat' as const, line: e.replace(/^-A /, '-C ') })),
    ...portRuleAdditions(o, ENTRIES_THERE),
  ];
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

/** The families portmap makes rules in: those of the pod's addresses (IPv6 only on a dual-stack network). */
export const portRuleFamilies = (a: Pick<Attachment, 'result'>): Family[] => {
  const ips = (a.result?.ips ?? []).map((i) => i.address);
  return [
    ...(ips.some((ip) => !ip.includes(':')) ? [4 as const] : []),
    ...(ips.some((ip) => ip.includes(':')) ? [6 as const] : []),
  ];
};

/** The pod's address of a family with its prefix length, as the ADD result gives it. */
export const containerNetOf = (result: CniResult, family: Family) =>
  result.ips?.find((i) => i.address.includes(':') === (family === 6))?.address as string;

/**
 * Makes a pod's port rules, a restore per family of its addresses at once: true when every
 * family's went in, false when one was refused (the caller then runs portmap's ADD, which makes
 * the chain if it is missing and appends only the rules and jumps it lacks: the same set). `snapshots` are the host's rules read
 * before the attach; CNI-HOSTPORT-DNAT is made first where a snapshot lacks it. With `checks`
 * (a family's `-C` lines) the snapshots are not used: the restore checks what it needs, and is
 * refused, nothing made, when something is missing. IPv4 published
 * ports reach the pod from 127.0.0.1 through the bridge only with route_localnet on it, which
 * portmap sets at each ADD (host-rules.ts keeps pods from abusing it).
 */
export async function addPortRules(
  tools: NetworkTools,
  o: { network: string; bridge: string; containerId: string; markChain: string; ports: PortMapping[] },
  result: CniResult,
  snapshots: Map<Family, RulesSnapshot>,
  checks?: Map<Family, RuleLine[]>,
): Promise<boolean> {
  const families = portRuleFamilies({ result });
  const done = await Promise.allSettled(
    families.map(async (family) => {
      const snapshot = snapshots.get(family) ?? { rules: [], chains: new Set<string>() };
      const checked = checks?.get(family);
      if (!checked && !snapshot.chains.has(`nat:${HOSTPORT_DNAT}`)) {
        // Made once per boot; a chain another process made meanwhile is left as it is.
        await tools
          .run(
            family === 6 ? 'ip6tables' : 'iptables',
            ['-w', '5', '-t', 'nat', '-N', HOSTPORT_DNAT],
            'making CNI-HOSTPORT-DNAT',
            {
              code: 'ERR_NETWORK_RULES',
            },
          )
          .catch(() => undefined); // the restore below fails if it is still missing
      }
      if (family === 4) await writeFile(`/proc/sys/net/ipv4/conf/${o.bridge}/route_localnet`, '1\n');
      const made = { ...o, containerNet: containerNetOf(result, family) };
      await tools.restore(
        family,
        checked ? checkedPortRuleAdditions(made, checked) : portRuleAdditions(made, snapshot),
      );
    }),
  );
  return families.length > 0 && done.every((d) => d.status === 'fulfilled');
}

/**
 * Takes a ready record's port rules away, a restore per family at once: true when every family's
 * went (nothing is left of them), false when one was refused (that family unchanged).
 */
export async function removePortRules(tools: NetworkTools, network: string, a: Attachment): Promise<boolean> {
  const lines = portRuleDeletions(network, cniIdOf(a), a.ports);
  const families = portRuleFamilies(a);
  const done = await Promise.allSettled(families.map((f) => tools.restore(f, lines)));
  return families.length > 0 && done.every((d) => d.status === 'fulfilled');
}

/**
 * The restore lines that take away what `snapshot` has of a holder's port rules, found by its id
 * alone (a dead claim's, host-ports.ts: no record says its ports or address): every jump to its
 * chain in CNI-HOSTPORT-DNAT, then the chain. Pure.
 */
export function portRulesOfId(network: string, containerId: string, snapshot: RulesSnapshot): RuleLine[] {
  const chain = portmapChainOf(network, containerId);
  if (!snapshot.chains.has(`nat:${chain}`)) return [];
  const jumps = snapshot.rules.filter(
    (r) => r.table === 'nat' && r.line.startsWith(`-A ${HOSTPORT_DNAT} `) && r.line.endsWith(` -j ${chain}`),
  );
  return [
    ...jumps.map((r) => ({ table: 'nat' as const, line: `-D${r.line.slice(2)}` })),
    { table: 'nat', line: `-F ${chain}` },
    { table: 'nat', line: `-X ${chain}` },
  ];
}
