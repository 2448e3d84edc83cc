// The network's firewall rules, checked every resync beside the passes: what a firewall reload
// (`iptables -F`, `netfilter-persistent reload`, `ufw reload`, firewalld) took from the host is made
// again (network/rules-repair.ts), and port rules of pods no longer here taken away, each repair an event. Passes stay free of processes: the check
// is one iptables-save a family, every `everyMs`, and none while nothing is on the network.
import type { EventSink } from '../events/event.js';
import { formatErrorLine } from '../lib/errors.js';
import type { NetworkAdapter } from '../network/adapter.js';
import { formatPort } from '../network/ports.js';
import type { RulesRepaired } from '../network/rules-repair.js';

export interface RulesWatchOptions {
  everyMs: number;
  network(): Promise<NetworkAdapter>;
  events: EventSink;
  info(line: string): void;
  fail(line: string): void;
}

/** One line (and one event) per network and holder that was repaired or could not be (pure but for the sinks). */
export function reportRepairs(
  repaired: RulesRepaired[],
  o: Pick<RulesWatchOptions, 'events' | 'info' | 'fail'>,
): void {
  for (const r of repaired) {
    if (r.families.length > 0) {
      const families = r.families.map((f) => `IPv${f}`).join(', ');
      const message = `network ${r.network}: its NAT and forwarding rules (${families}) were gone from the host: made again`;
      o.info(message);
      o.events.emit({ type: 'daemon', object: 'berth', reason: 'NetworkRulesRestored', message });
    }
    if (r.strays.length > 0) {
      const message = `network ${r.network}: published-port rules of pods no longer here (${r.strays.join(', ')}) were on the host, as a restored ruleset of an earlier boot brings them: removed`;
      o.info(message);
      o.events.emit({ type: 'daemon', object: 'berth', reason: 'PortRulesRemoved', message });
    }
    if (r.strayError !== undefined)
      o.fail(
        `network ${r.network}: stray published-port rules could not be removed: ${formatErrorLine(r.strayError)}`,
      );
    for (const a of r.holders) {
      if (a.owner.kind === 'spare') continue; // never published a port
      const ports = a.ports.map(formatPort).join(', ');
      const message = `the rules of its published ports (${ports}) were gone from the host: made again`;
      o.info(`${a.owner.kind} ${a.owner.name}: ${message}`);
      o.events.emit({ type: a.owner.kind, object: a.owner.name, reason: 'PortRulesRestored', message });
    }
    for (const { holder: a, error } of r.failed) {
      if (a.owner.kind === 'spare') continue;
      const message = `the rules of its published ports are gone from the host and could not be made again (${formatErrorLine(error)}): tried again at the next resync`;
      o.fail(`${a.owner.kind} ${a.owner.name}: ${message}`);
      o.events.emit({ type: a.owner.kind, object: a.owner.name, reason: 'PortRulesFailed', message });
    }
  }
}

/** Checks every `everyMs` until closed; close waits for a check under way (it holds the bridge's lock). */
export function watchNetworkRules(o: RulesWatchOptions): { close(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const check = async () => {
    try {
      reportRepairs(await (await o.network()).repairRules(), o);
    } catch (err) {
      o.fail(`checking the network's firewall rules: ${formatErrorLine(err)}`);
    }
  };
  const next = () => {
    timer = setTimeout(() => {
      running = check().finally(() => {
        if (!closed) next();
      });
    }, o.everyMs);
    timer.unref(); // a daemon that fails to start leaves at once
  };
  next();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
