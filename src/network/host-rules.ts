// What the network needs on the host beyond each pod's veth and address, kept per network and
// tied to its bridge: outbound NAT for the subnet, forwarding to and from the bridge (a host whose
// FORWARD policy is DROP, as Docker leaves it, still lets pods out and published ports in), and
// the guard that keeps pods off the host's loopback-only services (portmap sets route_localnet on
// the bridge so 127.0.0.1:hostPort works; without the guard a pod could send to 127.0.0.1 through
// the bridge: CVE-2020-8558). They are made before the first pod is attached and go with the
// bridge once no veth is left on it, so a host without pods holds none of them.
import { readdir } from 'node:fs/promises';
import { errnoCode } from '../lib/errors.js';
import { runTool } from '../runtime/tool.js';
import type { NetworkSettings } from './settings.js';

type Rule = { table: 'nat' | 'filter'; chain: string; spec: string[] };

export function networkRules(net: NetworkSettings): Rule[] {
  const comment = ['-m', 'comment', '--comment', `berth network ${net.name}`];
  return [
    {
      table: 'nat',
      chain: 'POSTROUTING',
      spec: ['-s', net.subnet, '!', '-d', net.subnet, ...comment, '-j', 'MASQUERADE'],
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
    {
      // Replies to the host's own 127.0.0.1:hostPort connections come back this way (DNAT undone).
      table: 'filter',
      chain: 'INPUT',
      spec: [
        ...['-i', net.bridge, '-d', '127.0.0.0/8'],
        ...['-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT'],
        ...comment,
        ...['-j', 'DROP'],
      ],
    },
  ];
}

const iptables = (args: string[], what: string) =>
  runTool('iptables', ['-w', '5', ...args], what, { code: 'ERR_NETWORK_RULES', kind: 'unavailable' });

async function hasRule(r: Rule): Promise<boolean> {
  try {
    await iptables(['-t', r.table, '-C', r.chain, ...r.spec], 'checking a rule');
    return true;
  } catch {
    return false;
  }
}

/** Each rule once, ahead of whatever the host has (idempotent). */
export async function ensureNetworkRules(net: NetworkSettings): Promise<void> {
  for (const r of networkRules(net)) {
    if (!(await hasRule(r)))
      await iptables(['-t', r.table, '-I', r.chain, '1', ...r.spec], `network ${net.name}: adding a rule`);
  }
}

export async function removeNetworkRules(net: NetworkSettings): Promise<void> {
  for (const r of networkRules(net)) {
    for (let i = 0; i < 8 && (await hasRule(r)); i++)
      await iptables(['-t', r.table, '-D', r.chain, ...r.spec], `network ${net.name}: removing a rule`);
  }
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

/** The bridge and the network's rules go once no veth is left on it (another root's pods included). */
export async function removeIdleBridge(net: NetworkSettings): Promise<boolean> {
  const ports = await bridgePorts(net.bridge);
  if (ports && ports.length > 0) return false;
  if (ports)
    await runTool('ip', ['link', 'del', net.bridge], `removing bridge ${net.bridge}`, {
      code: 'ERR_NETWORK',
    });
  await removeNetworkRules(net);
  return true;
}
