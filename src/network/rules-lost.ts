// Which of a network's rules on the host a firewall reload took (`iptables -F`, `iptables -t nat
// -F`, `netfilter-persistent reload`, `ufw reload`, firewalld): the pods run, but without their way
// out (host-rules.ts) or their published ports (port-rules.ts). Counted chain by chain, not matched
// line by line: iptables-save prints a rule in its own words (`-m tcp`, `--dports`), and a restore
// is all or nothing, so "fewer than made" is what a flush leaves; only a DNAT's target address is
// read (a restored ruleset of an earlier boot). More than made is not a loss, so a repair never
// repeats itself. Pure.
import { type Attachment, cniIdOf } from './attachments.js';
import { markChainOf, portmapChainOf } from './conflist.js';
import type { Family, RuleLine, RulesSnapshot } from './iptables.js';
import {
  containerNetOf,
  HOSTPORT_DNAT,
  HOSTPORT_FROM,
  portmapChainRules,
  portmapJumps,
  portRuleFamilies,
} from './port-rules.js';
import type { NetworkSettings } from './settings.js';

/** The rules in the nat table that jump from CNI-HOSTPORT-DNAT to `chain`, as iptables-save printed them. */
export const jumpsTo = (chain: string, snap: RulesSnapshot): RuleLine[] =>
  snap.rules.filter(
    (r) => r.table === 'nat' && r.line.startsWith(`-A ${HOSTPORT_DNAT} `) && r.line.endsWith(` -j ${chain}`),
  );

/**
 * Whether a ready holder's published ports lack rules in a family that was read: the host-wide
 * entry jumps, its DNAT chain, that chain's rules (or they send to another address), or the jumps
 * to it. A holder without ports has none to lose.
 */
export function portRulesLost(
  net: NetworkSettings,
  a: Attachment,
  snaps: Map<Family, RulesSnapshot>,
): boolean {
  if (a.state !== 'ready' || a.ports.length === 0) return false;
  const id = cniIdOf(a);
  const chain = portmapChainOf(net.name, id);
  return portRuleFamilies(a).some((family) => {
    const snap = snaps.get(family);
    const containerNet = a.result && containerNetOf(a.result, family);
    if (!snap || !containerNet) return false;
    // The entries as any portmap or iptables version words them: a jump from each nat entry chain.
    const entered = (from: string) =>
      snap.rules.some(
        (r) =>
          r.table === 'nat' && r.line.startsWith(`-A ${from} `) && r.line.endsWith(` -j ${HOSTPORT_DNAT}`),
      );
    const rules = snap.rules.filter((r) => r.table === 'nat' && r.line.startsWith(`-A ${chain} `));
    // A saved ruleset restored (`netfilter-persistent reload`) brings back the chain of a boot
    // when the pod had another address: its DNATs send the port elsewhere, whatever their count.
    const ip = containerNet.split('/')[0] as string;
    const to = ` --to-destination ${family === 6 ? `[${ip}]` : ip}:`;
    const elsewhere = rules.some((r) => r.line.includes(' -j DNAT ') && !r.line.includes(to));
    return (
      !HOSTPORT_FROM.every(entered) ||
      !snap.chains.has(`nat:${chain}`) ||
      elsewhere ||
      rules.length < portmapChainRules(containerNet, markChainOf(net), a.ports).length ||
      jumpsTo(chain, snap).length < portmapJumps(net.name, id, a.ports).length
    );
  });
}
