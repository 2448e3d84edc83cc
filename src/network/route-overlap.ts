// A network's subnet must not be one the host already routes elsewhere: its bridge would take the
// subnet's first address (a LAN's gateway, say) and its route, and the host would lose that network
// (podman and netavark refuse such a subnet too). Checked when berth is about to make the bridge,
// from /proc/net/route (no process on the start path). Parsing and the check are pure.
import { readFile } from 'node:fs/promises';
import { BerthError } from '../lib/errors.js';
import { formatIpv4, type NetworkSettings, parseSubnet } from './settings.js';

export interface Route {
  iface: string;
  base: number;
  prefix: number;
}

const le = (hex: string) => Buffer.from(hex, 'hex').readUInt32LE(0);

/** /proc/net/route's lines (addresses in little-endian hex) → routes. */
export function parseRoutes(text: string): Route[] {
  const out: Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [iface, dest, , , , , , mask] = line.trim().split(/\s+/);
    if (!iface || !dest || !mask || !/^[0-9A-Fa-f]{8}$/.test(dest) || !/^[0-9A-Fa-f]{8}$/.test(mask))
      continue;
    const m = le(mask);
    out.push({ iface, base: le(dest), prefix: m === 0 ? 0 : 32 - Math.log2((~m >>> 0) + 1) });
  }
  return out;
}

/** The first route of another interface that overlaps the subnet (the default route aside). */
export function overlappingRoute(net: NetworkSettings, routes: Route[]): Route | undefined {
  const { base, prefix } = parseSubnet(net.subnet);
  return routes.find((r) => {
    if (r.prefix === 0 || r.iface === net.bridge) return false;
    const shorter = Math.min(prefix, r.prefix);
    const size = 2 ** (32 - shorter);
    return Math.floor(base / size) === Math.floor(r.base / size);
  });
}

export async function checkSubnetFree(net: NetworkSettings, routesFile = '/proc/net/route'): Promise<void> {
  const text = await readFile(routesFile, 'utf8').catch(() => '');
  const route = overlappingRoute(net, parseRoutes(text));
  if (route)
    throw new BerthError(
      'ERR_NETWORK_CONFIG',
      'invalid',
      `network ${net.name}: subnet ${net.subnet} overlaps ${formatIpv4(route.base)}/${route.prefix}, which the host routes through ${route.iface}`,
      { hint: 'give network.subnet in the host config a range the host does not use' },
    );
}
