// A subnet the host already routes through another interface is refused before berth makes its
// bridge (it would take the LAN gateway's address and route); /proc/net/route as the kernel prints it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSubnetFree, overlappingRoute, parseRoutes } from '../../src/network/route-overlap.js';

const ROUTES = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
berth0\t0000590A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
wg0\t0000F30A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
`;
const net = (subnet: string, bridge = 'br9') => ({ name: 'n', bridge, subnet });

describe('subnets the host already routes', () => {
  it('parses /proc/net/route (little-endian addresses, masks as prefixes)', () => {
    expect(parseRoutes(ROUTES)).toEqual([
      { iface: 'eth0', base: 0, prefix: 0 },
      { iface: 'berth0', base: 0x0a590000, prefix: 16 },
      { iface: 'eth0', base: 0xc0000200, prefix: 24 },
      { iface: 'wg0', base: 0x0af30000, prefix: 16 },
    ]);
  });

  it("finds a route of another interface that overlaps, either way round; the default route and the bridge's own do not count", () => {
    const routes = parseRoutes(ROUTES);
    expect(overlappingRoute(net('10.243.7.0/24'), routes)?.iface).toBe('wg0'); // inside a wider route
    expect(overlappingRoute(net('10.0.0.0/8'), routes)?.iface).toBe('berth0'); // wider than a route
    expect(overlappingRoute(net('10.89.0.0/16', 'berth0'), routes)).toBeUndefined(); // its own
    expect(overlappingRoute(net('10.244.0.0/16'), routes)).toBeUndefined();
    expect(overlappingRoute(net('192.0.2.0/25'), routes)?.iface).toBe('eth0');
  });

  it('says which route, and through what, in a coded error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-routes-'));
    try {
      await writeFile(join(dir, 'route'), ROUTES);
      await expect(checkSubnetFree(net('10.243.0.0/24'), join(dir, 'route'))).rejects.toMatchObject({
        code: 'ERR_NETWORK_CONFIG',
        message: 'network n: subnet 10.243.0.0/24 overlaps 10.243.0.0/16, which the host routes through wg0',
      });
      await expect(checkSubnetFree(net('10.250.0.0/24'), join(dir, 'route'))).resolves.toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
