// What the network needs on the host beyond each pod's veth and address, kept per network and
// tied to its bridge: outbound NAT for the subnet, forwarding to and from the bridge (a host whose
// FORWARD policy is DROP, as Docker leaves it, still lets pods out and published ports in), and
// the guard that keeps pods off the host's loopback-only services (portmap sets route_localnet on
// the bridge so 127.0.0.1:hostPort works; without the guard a pod could send to 127.0.0.1 through
// the bridge: CVE-2020-8558). They are made before the first pod is attached and go with the
// bridge once no veth is left on it, so a host without pods holds none of them.
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { BerthError, errnoCode } from '../lib/errors.js';
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

const commentOf = (net: NetworkSettings) => `--comment "berth network ${net.name}"`;

/** The network's rules the host has now, as iptables-save prints them, per table. */
async function currentRules(net: NetworkSettings): Promise<Array<{ table: string; line: string }>> {
  const out: Array<{ table: string; line: string }> = [];
  for (const table of ['nat', 'filter']) {
    const { stdout } = await runTool('iptables-save', ['-t', table], 'reading the rules', {
      code: 'ERR_NETWORK_RULES',
      kind: 'unavailable',
    });
    for (const line of stdout.split('\n'))
      if (line.startsWith('-A ') && line.includes(commentOf(net))) out.push({ table, line });
  }
  return out;
}

/** One `iptables-restore --noflush` for every change: a process, not one per rule and check. */
function restore(lines: Array<{ table: string; line: string }>): Promise<void> {
  const text = ['nat', 'filter']
    .map((t) => [`*${t}`, ...lines.filter((l) => l.table === t).map((l) => l.line), 'COMMIT'].join('\n'))
    .join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn('iptables-restore', ['-w', '5', '--noflush'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new BerthError('ERR_NETWORK_RULES', 'unavailable', `iptables-restore failed: ${stderr.trim()}`),
          ),
    );
    child.stdin.end(`${text}\n`);
  });
}

const quoted = (spec: string[]) => spec.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ');

/** Each rule once, ahead of whatever the host has (idempotent: a partial set is made whole). */
export async function ensureNetworkRules(net: NetworkSettings): Promise<void> {
  const wanted = networkRules(net);
  const have = await currentRules(net);
  if (have.length === wanted.length) return;
  await restore([
    ...have.map((h) => ({ table: h.table, line: h.line.replace(/^-A /, '-D ') })),
    ...wanted.map((r) => ({ table: r.table, line: `-I ${r.chain} 1 ${quoted(r.spec)}` })),
  ]);
}

export async function removeNetworkRules(net: NetworkSettings): Promise<void> {
  const have = await currentRules(net);
  if (have.length > 0)
    await restore(have.map((h) => ({ table: h.table, line: h.line.replace(/^-A /, '-D ') })));
}

/** Whether `chain` exists in `table` (one `iptables -S`, which fails for a missing chain). */
export async function hasChain(table: 'nat' | 'filter', chain: string): Promise<boolean> {
  try {
    await runTool('iptables', ['-w', '5', '-t', table, '-S', chain], 'listing a chain');
    return true;
  } catch {
    return false;
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
