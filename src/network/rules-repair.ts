// Makes again what a firewall reload took from a network (rules-lost.ts says what): the network's
// own rules as an attach makes them (host-rules.ts), then, for each holder whose published ports
// lost rules, the jumps to its chain that are left deleted and its chain, rules and jumps made
// again as an attach makes them (port-rules.ts); port rules of pods no longer here that a restored
// ruleset brought back are deleted (stray-port-rules.ts). The pods and their veths are not touched. Asks
// nothing of the host when no holder is ready. The caller holds the bridge's lock.
import { type Attachment, cniIdOf } from './attachments.js';
import { markChainOf, portmapChainOf } from './conflist.js';
import { ensureNetworkRules, readSnapshots, ruleChanges, ruleFamilies } from './host-rules.js';
import type { Family } from './iptables.js';
import { addPortRules, HOSTPORT_DNAT, HOSTPORT_ENTRIES, portRuleFamilies } from './port-rules.js';
import { jumpsTo, portRulesLost } from './rules-lost.js';
import type { NetworkSettings } from './settings.js';
import { removeStrayPortRules } from './stray-port-rules.js';
import type { NetworkTools } from './tools.js';

export interface RulesRepaired {
  network: string;
  /** The families whose network rules (NAT, forwarding, the loopback guard) were made again. */
  families: Family[];
  /** The holders whose published ports' rules were made again. */
  holders: Attachment[];
  /** The holders whose rules could not be made again (a restore refused): tried at the next check. */
  failed: { holder: Attachment; error: unknown }[];
  /** The ids (`berth-…`) of port rules no record holds, deleted. */
  strays: string[];
  /** Why such rules could not be deleted. */
  strayError?: unknown;
}

export async function repairRules(
  net: NetworkSettings,
  /** Every record of the network (an attach under way holds its rules too). */
  records: Attachment[],
  tools: NetworkTools,
  /** portmap's own ADD for a holder (plugin-chain.ts): for UDP ports, and when a restore is refused. */
  portmapAdd: (a: Attachment) => Promise<void>,
  /** This root's tag (attachments.ts): only its ids' port rules can be strays here. */
  tag: string,
): Promise<RulesRepaired> {
  const done: RulesRepaired = { network: net.name, families: [], holders: [], failed: [], strays: [] };
  const ready = records.filter((a) => a.state === 'ready');
  if (ready.length === 0) return done;
  const snaps = await readSnapshots(ruleFamilies(net), tools);
  done.families = [...snaps].filter(([f, snap]) => ruleChanges(net, f, snap).length > 0).map(([f]) => f);
  // First: a holder's port rules jump to the network's mark chain.
  if (done.families.length > 0) await ensureNetworkRules(net, snaps, tools);
  // A refused delete (the rules changed meanwhile) is said, and tried again at the next check.
  done.strays = await removeStrayPortRules(net, { tag, held: records.map(cniIdOf) }, snaps, tools).catch(
    (error: unknown) => {
      done.strayError = error;
      return [];
    },
  );
  for (const a of ready.filter((h) => portRulesLost(net, h, snaps))) {
    const containerId = cniIdOf(a);
    try {
      // What a partial flush or an old ruleset left goes first: its jumps would be doubled, its
      // rules (another address's DNAT) would come first.
      const chain = portmapChainOf(net.name, containerId);
      await Promise.all(
        portRuleFamilies(a).map((f) => {
          const snap = snaps.get(f) ?? { rules: [], chains: new Set<string>() };
          return tools.restore(f, [
            ...jumpsTo(chain, snap).map((r) => ({ table: 'nat' as const, line: `-D${r.line.slice(2)}` })),
            ...(snap.chains.has(`nat:${chain}`) ? [{ table: 'nat' as const, line: `-F ${chain}` }] : []),
          ]);
        }),
      );
      // UDP ports are portmap's (it also drops the conntrack entries a client made meanwhile, which
      // would keep its packets from the pod), as at attach; so is a restore refused.
      const port = { network: net.name, bridge: net.bridge, containerId, markChain: markChainOf(net) };
      const udp = a.ports.some((p) => p.protocol === 'udp');
      if (udp || !(await addPortRules(tools, { ...port, ports: a.ports }, a.result ?? {}, snaps)))
        await portmapAdd(a);
      done.holders.push(a);
      // Made by this holder's restore: the next holder's must not make the host-wide ones twice.
      for (const f of portRuleFamilies(a)) {
        const snap = snaps.get(f);
        snap?.chains.add(`nat:${HOSTPORT_DNAT}`);
        snap?.rules.push(...HOSTPORT_ENTRIES.map((line) => ({ table: 'nat' as const, line })));
      }
    } catch (error) {
      done.failed.push({ holder: a, error });
    }
  }
  return done;
}
