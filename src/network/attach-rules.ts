// The host rules one attach reads and makes beside its CNI chain (adapter.ts): the host's rules
// read once (a save per family, not one per question) while the records are read and the bridge
// plugin runs; this root's stray port rules and the key's stale chains swept (stray-port-rules.ts,
// plugin-chain.ts); the network's rules made whole (host-rules.ts) before the port rules, which
// jump to its mark chain. A new holder on a bridge that is there, with this root's strays swept on
// this boot (rules-swept.ts), on an IPv4-only network reads nothing: one restore checks (`-C`) the
// network's rules and the port entry jumps and makes the pod's port rules (plugin-chain.ts; without
// port rules of its own, a restore of the checks alone); when it is refused, nothing made, the
// attach reads and sweeps as any other, then makes them. The caller holds the bridge's lock.
import { type Attachment, cniIdOf } from './attachments.js';
import type { BridgeMarks } from './bridge-marks.js';
import { ensureNetworkRules, networkRuleChecks, readSnapshots, ruleFamilies } from './host-rules.js';
import { type IpamStore, readAllocations } from './ipam-store.js';
import type { Family, RuleLine, RulesSnapshot } from './iptables.js';
import type { PluginChain } from './plugin-chain.js';
import type { PortMapping } from './ports.js';
import type { RulesSwept } from './rules-swept.js';
import type { NetworkSettings } from './settings.js';
import { removeStrayPortRules } from './stray-port-rules.js';
import type { NetworkTools } from './tools.js';

export interface AttachRulesOptions {
  net: NetworkSettings;
  tools: NetworkTools;
  chain: PluginChain;
  store: IpamStore;
  swept: RulesSwept;
  bridgeMarks: BridgeMarks;
  /** This root's tag, the holder's key, CNI id and ports, and its record (a holder set up before). */
  tag: string;
  key: string;
  cniId: string;
  ports: PortMapping[];
  existing: Attachment | undefined;
  /** This root's records on the network. */
  records: Promise<Attachment[]>;
}

export interface AttachRules {
  /** The host's rules, read when first asked for (at once unless `checks`). */
  rules(): Promise<Map<Family, RulesSnapshot>>;
  /** The strays and stale chains' sweep (settled before a refusal is thrown). */
  stale(): Promise<void>;
  /** Starts making (or checking) the network's rules: once the holder's record is written. */
  makeNetworkRules(): void;
  /** Everything started: the port rules wait for it, and so does the attach's end. */
  pending(): Promise<unknown>;
  /** Resolves once everything started has settled, failed or not. */
  settled(): Promise<unknown>;
  /** The `-C` lines a restore of the port rules checks first; undefined when the rules are read. */
  checks: Map<Family, RuleLine[]> | undefined;
  /** The rules the port rules are made from: read, the sweep done and the network's rules made first when checked. */
  readForPorts(): Promise<Map<Family, RulesSnapshot>>;
}

export function attachRules(o: AttachRulesOptions): AttachRules {
  const { net, tools } = o;
  const families = ruleFamilies(net);
  const checked = !o.existing && families.length === 1 && o.swept.current() && !o.bridgeMarks.absent();
  let saved: Promise<Map<Family, RulesSnapshot>> | undefined;
  const rules = () => {
    saved ??= readSnapshots(families, tools);
    return saved;
  };
  // Rules of this key, or of no key of this root, with no record (a restored ruleset, a wiped
  // --state): they would come before this pod's; cleared even when the attach is refused (strays:
  // the daemon retries). The version before's ids (`berth-<key>`) too, when no allocation of the
  // bridge names them.
  const sweep = () =>
    Promise.all([rules(), o.records, readAllocations(o.store.dir)]).then(async ([r, all, ipam]) => {
      const held = [o.cniId, ...all.map(cniIdOf)];
      const allocated = ipam.map((a) => a.id);
      await removeStrayPortRules(net, { tag: o.tag, held, allocated }, r, tools)
        .then(() => o.swept.note())
        .catch(() => undefined);
      if (o.existing || o.ports.length === 0) return;
      await o.chain.clearStale(o.cniId, o.ports, r);
      if (!allocated.includes(`berth-${o.key}`)) await o.chain.clearStale(`berth-${o.key}`, o.ports, r);
    });
  let stale = checked ? Promise.resolve() : sweep();
  stale.catch(() => undefined); // awaited by the caller
  let hostRules: Promise<void> = Promise.resolve();
  const readAfterAll = async () => {
    stale = sweep();
    hostRules = rules().then((r) => ensureNetworkRules(net, r, tools));
    await Promise.all([stale, hostRules]);
    return rules();
  };
  const checks = new Map(families.map((f) => [f, networkRuleChecks(net, f)]));
  // berth's own restore of the port rules (plugin-chain.ts: TCP only) checks the network's rules.
  const ownPortRules = o.ports.length > 0 && !o.ports.some((p) => p.protocol === 'udp');
  return {
    rules,
    stale: () => stale,
    makeNetworkRules() {
      if (!checked) hostRules = rules().then((r) => ensureNetworkRules(net, r, tools));
      else if (!ownPortRules)
        hostRules = Promise.all(families.map((f) => tools.restore(f, checks.get(f) ?? []))).then(
          () => undefined,
          () => readAfterAll().then(() => undefined),
        );
      hostRules.catch(() => undefined); // awaited by the caller
    },
    pending: () => Promise.all([stale, hostRules]),
    settled: () => Promise.allSettled([stale, hostRules]),
    checks: checked ? checks : undefined,
    readForPorts: checked ? readAfterAll : rules,
  };
}
