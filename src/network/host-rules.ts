// What the network needs on the host beyond each pod's veth and address, kept per network and
// tied to its bridge: outbound NAT for the subnet (and for the IPv6 subnet with ip6tables, when the
// network has one), forwarding to and from the bridge (a host whose FORWARD policy is DROP, as
// Docker leaves it, still lets pods out and published ports in), and the guard that keeps pods off
// the host's loopback-only services (portmap sets route_localnet on the bridge so 127.0.0.1:hostPort
// works; without the guard a pod could send to 127.0.0.1 through the bridge: CVE-2020-8558; IPv6
// has no route_localnet, and ::1 never arrives from an interface), and the chain portmap jumps to
// for connections that need masquerading (its `externalSetMarkChain`: with a chain of ours portmap
// skips making and checking its own SETMARK and MASQ chains, 5 of its 19 iptables processes per
// ADD) with the masquerade of marked packets leaving the bridge. They are made with the first pod
// and kept with the bridge, as podman and the kubelet's bridge CNI keep theirs, until
// `berth network rm` (removeIdleNetwork) takes both away.
import { writeFile } from 'node:fs/promises';
import { findOnPath } from '../runtime/tool.js';
import { bridgePorts, hasBridge, type RunTool } from './bridge-links.js';
import { markChainOf } from './conflist.js';
import type { Family, RuleLine, RulesSnapshot } from './iptables.js';
import type { NetworkSettings } from './settings.js';
import { strayPortRules } from './stray-port-rules.js';
import { HOST_TOOLS, type NetworkTools } from './tools.js';

type Rule = { table: 'nat' | 'filter'; chain: string; spec: string[] };

/** The mark portmap sets for masquerade (its default markMasqBit 13, as kube-proxy's 0x4000 is 14). */
export const MASQ_MARK = '0x2000/0x2000';

/** The families the network's rules are kept in: IPv6 too when it has an IPv6 subnet and the host ip6tables. */
export function ruleFamilies(net: NetworkSettings, has6 = hasIp6tables()): Family[] {
  return net.ipv6Subnet && has6 ? [4, 6] : [4];
}

export const hasIp6tables = () => findOnPath('ip6tables-restore') !== 'ip6tables-restore';

export function networkRules(net: NetworkSettings, family: Family = 4): Rule[] {
  const comment = ['-m', 'comment', '--comment', `berth network ${net.name}`];
  const subnet = family === 6 ? net.ipv6Subnet : net.subnet;
  if (!subnet) return [];
  const rules: Rule[] = [
    {
      table: 'nat',
      chain: 'POSTROUTING',
      spec: ['-s', subnet, '!', '-d', subnet, ...comment, '-j', 'MASQUERADE'],
    },
    { table: 'filter', chain: 'FORWARD', spec: ['-i', net.bridge, ...comment, '-j', 'ACCEPT'] },
    {
      table: 'filter',
      chain: 'FORWARD',
      spec: [
        '-o',
        net.bridge,
        '-m',
        'conntrack',
        '--ctstate',
        'RELATED,ESTABLISHED,DNAT',
        ...comment,
        '-j',
        'ACCEPT',
      ],
    },
  ];
  rules.push(
    {
      table: 'nat',
      chain: markChainOf(net),
      spec: [...comment, '-j', 'MARK', '--set-xmark', MASQ_MARK],
    },
    {
      // Published ports reached from the host itself or hairpinned from a pod: portmap marks them.
      table: 'nat',
      chain: 'POSTROUTING',
      spec: ['-o', net.bridge, '-m', 'mark', '--mark', MASQ_MARK, ...comment, '-j', 'MASQUERADE'],
    },
  );
  if (family === 4)
    rules.push({
      // Replies to the host's own 127.0.0.1:hostPort connections come back this way (DNAT undone).
      table: 'filter',
      chain: 'INPUT',
      spec: [
        ...['-i', net.bridge, '-d', '127.0.0.0/8'],
        ...['-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT'],
        ...comment,
        ...['-j', 'DROP'],
      ],
    });
  return rules;
}

const commentOf = (net: NetworkSettings) => `--comment "berth network ${net.name}"`;
const quoted = (spec: string[]) => spec.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ');

/**
 * The network's rules for this bridge and subnet in a snapshot, as iptables-save printed them. A
 * network's name alone does not say whose a rule is: the same name on another bridge (another root,
 * or this network's former bridge that still has pods) has rules with the same comment, which are
 * that bridge's and stay.
 */
export function haveRules(net: NetworkSettings, family: Family, snap: RulesSnapshot): RuleLine[] {
  const subnet = family === 6 ? net.ipv6Subnet : net.subnet;
  const chain = markChainOf(net);
  return snap.rules.filter((r) => {
    if (!r.line.includes(commentOf(net))) return false;
    const t = r.line.split(' ');
    const after = (flag: string) => {
      const i = t.indexOf(flag);
      return i < 0 ? undefined : t[i + 1];
    };
    return (
      t[1] === chain || after('-i') === net.bridge || after('-o') === net.bridge || after('-s') === subnet
    );
  });
}

/**
 * The changes that make the network's rules whole, each once ahead of whatever the host has (a
 * partial set is deleted and made again); none when they are all there. Pure.
 */
export function ruleChanges(net: NetworkSettings, family: Family, snap: RulesSnapshot): RuleLine[] {
  const wanted = networkRules(net, family);
  const have = haveRules(net, family, snap);
  if (have.length === wanted.length || wanted.length === 0) return [];
  const chain = markChainOf(net);
  return [
    ...(snap.chains.has(`nat:${chain}`) ? [] : [{ table: 'nat' as const, line: `:${chain} - [0:0]` }]),
    ...have.map((h) => ({ table: h.table, line: h.line.replace(/^-A /, '-D ') })),
    ...wanted.map((r) => ({ table: r.table, line: `-I ${r.chain} 1 ${quoted(r.spec)}` })),
  ];
}

/**
 * Restore lines that check (`-C`) the network's rules are there, the filter table's first (pure):
 * a restore that makes a pod's port rules after them makes nothing when one is missing.
 */
export function networkRuleChecks(net: NetworkSettings, family: Family): RuleLine[] {
  const checks = networkRules(net, family).map((r) => ({
    table: r.table,
    line: `-C ${r.chain} ${quoted(r.spec)}`,
  }));
  return [...checks.filter((c) => c.table === 'filter'), ...checks.filter((c) => c.table === 'nat')];
}

/** Makes the network's rules whole from snapshots the caller read (one save per family per attach). */
export async function ensureNetworkRules(
  net: NetworkSettings,
  snapshots: Map<Family, RulesSnapshot>,
  tools: NetworkTools = HOST_TOOLS,
): Promise<void> {
  await Promise.all(
    [...snapshots].map(([family, snap]) => tools.restore(family, ruleChanges(net, family, snap))),
  );
}

export async function readSnapshots(
  families: Family[],
  tools: NetworkTools = HOST_TOOLS,
): Promise<Map<Family, RulesSnapshot>> {
  return new Map(await Promise.all(families.map(async (f) => [f, await tools.save(f)] as const)));
}

/**
 * Deletes the network's rules and its mark chain: one restore of exactly what it makes (the usual
 * case: all of it there); when that fails (some are missing, or stray port rules still jump to the
 * mark chain), one save and a restore of what is there. Called with no pod on the network.
 */
export async function removeNetworkRules(
  net: NetworkSettings,
  families = ruleFamilies(net),
  tools: NetworkTools = HOST_TOOLS,
): Promise<void> {
  const chain = markChainOf(net);
  await Promise.all(
    families.map(async (family) => {
      const wanted = networkRules(net, family).map((r) => ({
        table: r.table,
        line: `-D ${r.chain} ${quoted(r.spec)}`,
      }));
      if (wanted.length === 0) return;
      try {
        await tools.restore(family, [...wanted, { table: 'nat', line: `-X ${chain}` }]);
      } catch {
        const snap = await tools.save(family);
        await tools.restore(family, [
          // A removed pod's port rules a restored ruleset brought back jump to the mark chain.
          ...strayPortRules(net, family, { held: [] }, snap).lines,
          ...haveRules(net, family, snap).map((h) => ({
            table: h.table,
            line: h.line.replace(/^-A /, '-D '),
          })),
          ...(snap.chains.has(`nat:${chain}`) ? [{ table: 'nat' as const, line: `-X ${chain}` }] : []),
        ]);
      }
    }),
  );
}

/**
 * A dual-stack bridge is made here, before the bridge plugin adds its gateway addresses, with
 * duplicate address detection off: the gateway's IPv6 address is this host's own in a private
 * subnet, and while DAD runs (a second or more, again when the bridge's carrier comes back) the
 * address is "tentative" and a published port reached through it times out. The plugin uses a
 * bridge it finds. IPv4-only networks leave the bridge to the plugin (no process added).
 */
export async function prepareBridge(net: NetworkSettings, run: RunTool = HOST_TOOLS.run): Promise<void> {
  if (!net.ipv6Subnet) return;
  if (!(await hasBridge(net.bridge, run)))
    await run('ip', ['link', 'add', 'name', net.bridge, 'type', 'bridge'], `making bridge ${net.bridge}`, {
      code: 'ERR_NETWORK',
    }).catch(async (err) => {
      if (!(await hasBridge(net.bridge, run))) throw err; // made meanwhile by another root: fine
    });
  await writeFile(`/proc/sys/net/ipv6/conf/${net.bridge}/accept_dad`, '0\n');
}

/**
 * Takes the bridge (when berth made it: `madeHere`) and the network's rules away when no veth is
 * left on it (another root's pods included): false, and nothing changed, when one is. The caller
 * holds the bridge's lock.
 */
export async function removeIdleNetwork(
  net: NetworkSettings,
  tools: NetworkTools = HOST_TOOLS,
  madeHere = true,
): Promise<boolean> {
  const ports = await bridgePorts(net.bridge, tools.run);
  if (ports && ports.length > 0) return false;
  await Promise.all([
    // A bridge berth did not make (docker0, virbr0, one an administrator set up) stays.
    ports && madeHere
      ? tools.run('ip', ['link', 'del', net.bridge], `removing bridge ${net.bridge}`, { code: 'ERR_NETWORK' })
      : undefined,
    removeNetworkRules(net, ruleFamilies(net), tools),
  ]);
  return true;
}
