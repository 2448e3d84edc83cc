// What the network needs on the host beyond each pod's veth and address, kept per network and
// tied to its bridge: outbound NAT for the subnet (and for the IPv6 subnet with ip6tables, when the
// network has one), forwarding to and from the bridge (a host whose FORWARD policy is DROP, as
// Docker leaves it, still lets pods out and published ports in), and the guard that keeps pods off
// the host's loopback-only services (portmap sets route_localnet on the bridge so 127.0.0.1:hostPort
// works; without the guard a pod could send to 127.0.0.1 through the bridge: CVE-2020-8558; IPv6
// has no route_localnet, and ::1 never arrives from an interface). They are made before the first
// pod is attached and go with the bridge once no veth is left on it, so a host without pods holds
// none of them.
import { readdir, writeFile } from 'node:fs/promises';
import { errnoCode } from '../lib/errors.js';
import { findOnPath, runTool } from '../runtime/tool.js';
import { type Family, type RuleLine, type RulesSnapshot, readRules, restore } from './iptables.js';
import type { NetworkSettings } from './settings.js';

type Rule = { table: 'nat' | 'filter'; chain: string; spec: string[] };

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

/** The network's rules in a snapshot, as iptables-save printed them. */
const haveRules = (net: NetworkSettings, snap: RulesSnapshot) =>
  snap.rules.filter((r) => r.line.includes(commentOf(net)));

/**
 * The changes that make the network's rules whole, each once ahead of whatever the host has (a
 * partial set is deleted and made again); none when they are all there. Pure.
 */
export function ruleChanges(net: NetworkSettings, family: Family, snap: RulesSnapshot): RuleLine[] {
  const wanted = networkRules(net, family);
  const have = haveRules(net, snap);
  if (have.length === wanted.length) return [];
  return [
    ...have.map((h) => ({ table: h.table, line: h.line.replace(/^-A /, '-D ') })),
    ...wanted.map((r) => ({ table: r.table, line: `-I ${r.chain} 1 ${quoted(r.spec)}` })),
  ];
}

/** Makes the network's rules whole from snapshots the caller read (one save per family per attach). */
export async function ensureNetworkRules(
  net: NetworkSettings,
  snapshots: Map<Family, RulesSnapshot>,
): Promise<void> {
  await Promise.all([...snapshots].map(([family, snap]) => restore(family, ruleChanges(net, family, snap))));
}

export async function readSnapshots(families: Family[]): Promise<Map<Family, RulesSnapshot>> {
  return new Map(await Promise.all(families.map(async (f) => [f, await readRules(f)] as const)));
}

/**
 * Deletes the network's rules: one restore of exactly the rules it makes (the usual case: all of
 * them there); when that fails (some are missing), one save and a restore of what is there.
 */
export async function removeNetworkRules(net: NetworkSettings, families = ruleFamilies(net)): Promise<void> {
  await Promise.all(
    families.map(async (family) => {
      const wanted = networkRules(net, family).map((r) => ({
        table: r.table,
        line: `-D ${r.chain} ${quoted(r.spec)}`,
      }));
      try {
        await restore(family, wanted);
      } catch {
        const have = haveRules(net, await readRules(family));
        await restore(
          family,
          have.map((h) => ({ table: h.table, line: h.line.replace(/^-A /, '-D ') })),
        );
      }
    }),
  );
}

/** The bridge's ports (veths), or undefined when there is no such bridge. */
export async function bridgePorts(bridge: string): Promise<string[] | undefined> {
  try {
    return await readdir(`/sys/class/net/${bridge}/brif`);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * A dual-stack bridge is made here, before the bridge plugin adds its gateway addresses, with
 * duplicate address detection off: the gateway's IPv6 address is this host's own in a private
 * subnet, and while DAD runs (a second or more, again when the bridge's carrier comes back) the
 * address is "tentative" and a published port reached through it times out. The plugin uses a
 * bridge it finds. IPv4-only networks leave the bridge to the plugin (no process added).
 */
export async function prepareBridge(net: NetworkSettings): Promise<void> {
  if (!net.ipv6Subnet) return;
  if ((await bridgePorts(net.bridge)) === undefined)
    await runTool(
      'ip',
      ['link', 'add', 'name', net.bridge, 'type', 'bridge'],
      `making bridge ${net.bridge}`,
      {
        code: 'ERR_NETWORK',
      },
    ).catch(async (err) => {
      if ((await bridgePorts(net.bridge)) === undefined) throw err; // made meanwhile by another root: fine
    });
  await writeFile(`/proc/sys/net/ipv6/conf/${net.bridge}/accept_dad`, '0\n');
}

/**
 * The bridge and the network's rules go once no veth is left on it (another root's pods included);
 * `rulesGone`: the caller removed the rules already.
 */
export async function removeIdleBridge(
  net: NetworkSettings,
  o: { rulesGone?: boolean } = {},
): Promise<boolean> {
  const ports = await bridgePorts(net.bridge);
  if (ports && ports.length > 0) return false;
  await Promise.all([
    ports
      ? runTool('ip', ['link', 'del', net.bridge], `removing bridge ${net.bridge}`, { code: 'ERR_NETWORK' })
      : undefined,
    o.rulesGone ? undefined : removeNetworkRules(net),
  ]);
  return true;
}

/** Whether the bridge has no port but `ours` (the host ends of the pod's veths): its last pod. */
export async function isLastOnBridge(bridge: string, ours: string[]): Promise<boolean> {
  const ports = await bridgePorts(bridge);
  return ports !== undefined && ours.length > 0 && ports.every((p) => ours.includes(p));
}
