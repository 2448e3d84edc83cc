// A bridge and its ports as netlink tells them (`ip -j`), in the network namespace berth runs in.
// Not sysfs: /sys/class/net shows the links of the namespace that mounted /sys, so a berth in a
// network namespace that sees the host's /sys (a container given the host's sysfs, `ip netns exec`
// without its remount) would find neither the bridge nor its ports, and `network rm` would take
// the rules of a network whose pods run. The answers mean what `/sys/class/net/BRIDGE/brif` meant:
// no such link, or a link that is not a bridge (a `bridge:` naming eth0), is no bridge at all.
import { BerthError } from '../lib/errors.js';
import { runTool } from '../runtime/tool.js';

/** How the network starts `ip` (runTool; a test passes its own). */
export type RunTool = typeof runTool;

/** What one `ip -j … link show …` said: its stdout, or that the device does not exist. */
export type LinkAnswer = { stdout: string } | { absent: true };

interface IpLink {
  ifname: string;
  master?: string;
  /** `linkinfo.info_kind` (with -d): "bridge", "veth"…; none for a plain device. */
  kind?: string;
}

const unreadable = (what: string) => new BerthError('ERR_NETWORK', 'internal', `ip -j printed ${what}`);

/** `ip -j` link lists (pure); anything else is an error, never "no ports". */
export function parseLinks(stdout: string): IpLink[] {
  const list: unknown = JSON.parse(stdout);
  if (!Array.isArray(list)) throw unreadable(`no list: ${stdout.slice(0, 80)}`);
  return list.map((l) => {
    const o = l as { ifname?: unknown; master?: unknown; linkinfo?: { info_kind?: unknown } };
    if (typeof o.ifname !== 'string') throw unreadable('a link without a name');
    return {
      ifname: o.ifname,
      ...(typeof o.master === 'string' ? { master: o.master } : {}),
      ...(typeof o.linkinfo?.info_kind === 'string' ? { kind: o.linkinfo.info_kind } : {}),
    };
  });
}

/** Whether `ip -j -d link show dev NAME` said NAME is a bridge (pure). */
export function isBridgeIn(self: LinkAnswer): boolean {
  return !('absent' in self) && parseLinks(self.stdout)[0]?.kind === 'bridge';
}

/**
 * The bridge's ports from `ip -j -d link show dev BRIDGE` and `ip -j link show master BRIDGE`
 * (pure): undefined when there is no such bridge, as when sysfs had no `brif` for it.
 */
export function bridgePortsFrom(bridge: string, self: LinkAnswer, ports: LinkAnswer): string[] | undefined {
  if (!isBridgeIn(self) || 'absent' in ports) return undefined; // the second: gone between the two
  return parseLinks(ports.stdout)
    .filter((l) => l.master === bridge)
    .map((l) => l.ifname);
}

/** One `ip -j` question; a missing device is an answer, any other failure is thrown. */
async function askIp(run: RunTool, args: string[]): Promise<LinkAnswer> {
  try {
    return { stdout: (await run('ip', ['-j', ...args], 'reading links', { code: 'ERR_NETWORK' })).stdout };
  } catch (err) {
    // iproute2 says `Device "X" does not exist.` (dev) or `argument "X" is wrong: Device does not exist` (master).
    if (err instanceof Error && /does not exist/.test(err.message)) return { absent: true };
    throw err;
  }
}

export const askSelf = (bridge: string, run: RunTool) => askIp(run, ['-d', 'link', 'show', 'dev', bridge]);

/** The bridge's ports (veths), or undefined when there is no such bridge: two `ip` processes at once. */
export async function bridgePorts(bridge: string, run: RunTool = runTool): Promise<string[] | undefined> {
  const [self, ports] = await Promise.all([
    askSelf(bridge, run),
    askIp(run, ['link', 'show', 'master', bridge]),
  ]);
  return bridgePortsFrom(bridge, self, ports);
}

/** Whether the bridge exists (one `ip` process). */
export async function hasBridge(bridge: string, run: RunTool = runTool): Promise<boolean> {
  return isBridgeIn(await askSelf(bridge, run));
}

/**
 * Drops the host's neighbour entries of addresses put back on the bridge: one confirmed within the
 * last second still names the deleted veth's MAC and ignores the new one's gratuitous ARP, so the
 * host would send to a MAC no longer there until the entry goes stale (some 30 s).
 */
export async function forgetNeighbours(run: RunTool, bridge: string, ips: string[]): Promise<void> {
  for (const ip of ips)
    await run('ip', ['neigh', 'flush', 'to', ip, 'dev', bridge], `forgetting ${ip}'s MAC`, {
      code: 'ERR_NETWORK',
    });
}
