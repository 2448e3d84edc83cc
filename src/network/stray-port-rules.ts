// Published-port rules of this root on this network that no record of it holds: a pod's jumps in
// CNI-HOSTPORT-DNAT and its DNAT chain brought back by a firewall restoring a ruleset saved while
// that pod ran (`netfilter-persistent` at boot, `iptables-restore < rules.v4`), or left by a wiped
// --state. Their DNAT sends a host port to an address the pod no longer has, which the IPAM may
// since have given another pod (its port then published without asking), and they come before the
// jump of the port's new holder. A jump is stray when its comment is the one berth and portmap put
// on this network's jumps by this root (`dnat name: "NET" id: "berth-<tag>-…"`, attachments.ts),
// its chain is no record's, and every DNAT of that chain goes into this network's subnet. Another
// root on the same bridge (and network name) has other ids: its live rules are never this root's
// strays. Ids without a tag (`berth-<key>`, made by the version before) are no root's for sure (two
// roots' pods `web` had one id): a root takes one when no allocation in the bridge's shared IPAM
// directory names it (`allocated`: a live holder of the version before always has one once its
// root's allocations are moved in, ipam-store.ts; a ruleset saved before the upgrade and restored
// at boot has none, and its DNAT would send a host port to whichever new pod got the old address),
// and any where nothing is on the bridge (`network rm`: host-rules.ts, no tag given).
// `strayPortRules` is pure.
import { portmapChainOf } from './conflist.js';
import type { Family, RuleLine, RulesSnapshot } from './iptables.js';
import { parseIpv6, parseIpv6Subnet } from './ipv6.js';
import { HOSTPORT_DNAT } from './port-rules.js';
import { type NetworkSettings, parseIpv4, parseSubnet } from './settings.js';
import type { NetworkTools } from './tools.js';

export interface StrayPortRules {
  /** The ids of the jumps' comments (`berth-…`, cut as portmap cuts a long one). */
  ids: string[];
  /** The restore lines that delete the jumps, then empty and delete their chains. */
  lines: RuleLine[];
}

/** Is `ip` (as a DNAT target prints it: `a.b.c.d` or `[v6]`) in the network's subnet of its family? */
function inNetwork(net: NetworkSettings, family: Family, ip: string): boolean {
  if (family === 4) {
    const n = parseIpv4(ip);
    const { base, prefix } = parseSubnet(net.subnet);
    return n !== undefined && Math.floor(n / 2 ** (32 - prefix)) === Math.floor(base / 2 ** (32 - prefix));
  }
  const sub = net.ipv6Subnet === undefined ? undefined : parseIpv6Subnet(net.ipv6Subnet);
  const n = parseIpv6(ip.replace(/^\[|\]$/g, ''));
  if (sub === undefined || typeof sub === 'string' || n === undefined) return false;
  const host = 128n - BigInt(sub.prefix);
  return n >> host === sub.base >> host;
}

/** Whose strays: `held` are the CNI ids of this root's records on the network (any state: an attach under way is not stray); `tag` this root's (none: every berth id, for a bridge nothing is on); `allocated` the ids the bridge's allocations name (given: untagged ids none names are strays too). */
export interface StrayOwner {
  tag?: string;
  held: string[];
  allocated?: string[];
}

/** The stray jumps and chains in one family's snapshot. */
export function strayPortRules(
  net: NetworkSettings,
  family: Family,
  owner: StrayOwner,
  snap: RulesSnapshot,
): StrayPortRules {
  // By chain, not by the comment's id (portmap cuts a long one there).
  const held = new Set([...owner.held, ...(owner.allocated ?? [])].map((id) => portmapChainOf(net.name, id)));
  const nat = snap.rules.filter((r) => r.table === 'nat');
  const comment = (id: string) => ` -m comment --comment "dnat name: \\"${net.name}\\" id: \\"${id}`;
  const ours = (line: string) =>
    owner.tag === undefined
      ? line.includes(comment('berth-'))
      : line.includes(comment(`berth-${owner.tag}-`)) ||
        (owner.allocated !== undefined &&
          (line.includes(comment('berth-pod-')) || line.includes(comment('berth-container-'))));
  const jumps = nat.flatMap((r) => {
    const m = / -j (CNI-DN-\S+)$/.exec(r.line);
    if (!m || !r.line.startsWith(`-A ${HOSTPORT_DNAT} `) || !ours(r.line)) return [];
    return held.has(m[1] as string) ? [] : [{ rule: r, chain: m[1] as string }];
  });
  const chains = [...new Set(jumps.map((j) => j.chain))].filter((chain) =>
    nat
      .filter((r) => r.line.startsWith(`-A ${chain} `) && r.line.includes(' -j DNAT '))
      .every((r) => {
        const to = / --to-destination (\S+):\d+(?:-\d+)?$/.exec(r.line)?.[1];
        return to !== undefined && inNetwork(net, family, to);
      }),
  );
  const stray = jumps.filter((j) => chains.includes(j.chain));
  // A chain goes only when no other jump to it is left (one of another comment keeps it).
  const emptied = chains.filter(
    (chain) =>
      nat.filter((r) => r.line.endsWith(` -j ${chain}`)).length ===
      stray.filter((j) => j.chain === chain).length,
  );
  const ids = stray.map((j) => /id: \\"(berth-[^\\]*)/.exec(j.rule.line)?.[1] ?? j.chain);
  return {
    ids: [...new Set(ids)],
    lines: [
      ...stray.map((j) => ({ table: 'nat' as const, line: `-D${j.rule.line.slice(2)}` })),
      ...emptied.flatMap((chain) => [
        { table: 'nat' as const, line: `-F ${chain}` },
        { table: 'nat' as const, line: `-X ${chain}` },
      ]),
    ],
  };
}

/** Deletes the stray port rules of every family read, a restore each; the ids of what went. */
export async function removeStrayPortRules(
  net: NetworkSettings,
  owner: StrayOwner,
  snaps: Map<Family, RulesSnapshot>,
  tools: NetworkTools,
): Promise<string[]> {
  const found = [...snaps].map(([family, snap]) => ({ family, ...strayPortRules(net, family, owner, snap) }));
  await Promise.all(found.filter((f) => f.lines.length > 0).map((f) => tools.restore(f.family, f.lines)));
  return [...new Set(found.flatMap((f) => f.ids))];
}
