// Whether a holder's rules on the host are gone while its record says it is on the network: the
// network's own (outbound NAT, forwarding, the loopback guard: host-rules.ts) not whole, or, for a
// holder with published ports, its DNAT chain or the jump to it missing. What a firewall reload
// (`iptables -F`, `netfilter-persistent reload`, `ufw reload`) leaves: the pod runs, its ports and
// its way out do not. Such a holder is put back on the network as one whose veth was deleted
// (links-here.ts, adapter.ts): DEL and ADD make every rule again. Pure.
import type { Attachment } from './attachments.js';
import { portmapChainOf } from './conflist.js';
import { ruleChanges } from './host-rules.js';
import type { Family, RulesSnapshot } from './iptables.js';
import { portRuleFamilies } from './port-rules.js';
import type { NetworkSettings } from './settings.js';

/** Whether the network's rules are whole in every family read. */
export const networkRulesWhole = (net: NetworkSettings, snaps: Map<Family, RulesSnapshot>): boolean =>
  [...snaps].every(([family, snap]) => ruleChanges(net, family, snap).length === 0);

/** Whether the holder's port rules are there in each family of its addresses that was read. */
export function portRulesThere(
  net: NetworkSettings,
  a: Attachment,
  snaps: Map<Family, RulesSnapshot>,
): boolean {
  if (a.ports.length === 0) return true;
  const chain = portmapChainOf(net.name, `berth-${a.key}`);
  return portRuleFamilies(a).every((family) => {
    const snap = snaps.get(family);
    if (!snap) return true;
    const jump = ` -j ${chain}`;
    return (
      snap.chains.has(`nat:${chain}`) &&
      snap.rules.some((r) => r.table === 'nat' && r.line.startsWith(`-A ${chain} `)) &&
      snap.rules.some((r) => r.table === 'nat' && r.line.endsWith(jump))
    );
  });
}

/** The keys of the ready holders whose rules are gone. */
export function holdersWithRulesLost(
  net: NetworkSettings,
  holders: Attachment[],
  snaps: Map<Family, RulesSnapshot>,
): Set<string> {
  const ready = holders.filter((a) => a.state === 'ready');
  if (!networkRulesWhole(net, snaps)) return new Set(ready.map((a) => a.key));
  return new Set(ready.filter((a) => !portRulesThere(net, a, snaps)).map((a) => a.key));
}
