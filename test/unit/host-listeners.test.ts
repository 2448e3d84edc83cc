// The host's listening sockets as the kernel lists them (network/host-listeners.ts): real sockets
// of this process read back from /proc/self/net, and which published ports would take their traffic.
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import {
  describeListener,
  findShadowedListener,
  type HostListener,
  parseProcNet,
  readHostListeners,
} from '../../src/network/host-listeners.js';
import type { PortMapping } from '../../src/network/ports.js';

const port = (hostPort: number, hostIP = '', protocol: PortMapping['protocol'] = 'tcp'): PortMapping => ({
  hostPort,
  containerPort: 80,
  protocol,
  hostIP,
});
const listener = (address: string, p: number, protocol: 'tcp' | 'udp' = 'tcp'): HostListener => ({
  protocol,
  address,
  port: p,
});

describe('the host listeners', () => {
  const closers: Array<() => void> = [];
  afterAll(() => {
    for (const c of closers) c();
  });
  const listen = (host: string) =>
    new Promise<number>((resolve, reject) => {
      const s: Server = createServer();
      s.once('error', reject); // a host without IPv6: a failure, not a hang
      s.listen(0, host, () => resolve((s.address() as { port: number }).port));
      closers.push(() => s.close());
    });

  it('reads this process’s own TCP listeners (IPv4, IPv6, every address) and bound UDP sockets back from the kernel', async () => {
    const [loop4, any6, loop6] = [await listen('127.0.0.1'), await listen('::'), await listen('::1')];
    const udp = createSocket('udp4');
    const udpPort = await new Promise<number>((r) => udp.bind(0, '0.0.0.0', () => r(udp.address().port)));
    closers.push(() => udp.close());
    const found = (await readHostListeners()).map(describeListener);
    expect(found).toEqual(
      expect.arrayContaining([
        `127.0.0.1:${loop4}/tcp`,
        `[::]:${any6}/tcp`,
        `[::1]:${loop6}/tcp`,
        `0.0.0.0:${udpPort}/udp`,
      ]),
    );
  });

  it('a connected socket, or a TCP one not listening, is no listener; an IPv4-mapped address reads as IPv4', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0',
      '   1: 0100007F:1F91 0100007F:B1F0 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0',
    ].join('\n');
    expect(parseProcNet(tcp, 'tcp')).toEqual([listener('127.0.0.1', 8080)]);
    const udp6 = [
      '  sl  local_address                         remote_address                        st',
      '   0: 0000000000000000FFFF00000100A8C0:0035 00000000000000000000000000000000:0000 07',
      '   1: 00000000000000000000000001000000:0036 00000000000000000000000001000000:1234 07',
    ].join('\n');
    expect(parseProcNet(udp6, 'udp')).toEqual([listener('192.168.0.1', 53, 'udp')]);
  });

  it('which published port takes a listener’s traffic', () => {
    const ssh = [listener('0.0.0.0', 22)];
    expect(findShadowedListener([port(8080), port(22)], ssh, false)?.port).toEqual(port(22));
    expect(findShadowedListener([port(22, '127.0.0.1')], ssh, false)).toBeDefined(); // every address: loopback too
    expect(findShadowedListener([port(22, '', 'udp')], ssh, false)).toBeUndefined(); // another protocol
    const loop = [listener('127.0.0.1', 53, 'udp')];
    expect(findShadowedListener([port(53, '', 'udp')], loop, false)).toBeDefined(); // the DNAT catches 127.0.0.1 too
    expect(findShadowedListener([port(53, '10.0.0.5', 'udp')], loop, false)).toBeUndefined(); // another address
    // A listener on one IPv6 address: only a dual-stack network's DNAT sees its traffic.
    const v6 = [listener('fd00::1', 443)];
    expect(findShadowedListener([port(443)], v6, false)).toBeUndefined();
    expect(findShadowedListener([port(443)], v6, true)).toBeDefined();
    expect(findShadowedListener([port(443, 'fd00:0:0::1')], v6, true)).toBeDefined(); // written another way
    expect(findShadowedListener([port(443)], [listener('::', 443)], false)).toBeDefined(); // dual-stack socket
    // An IPv6 host address on an IPv4-only network is published nowhere; on a dual-stack one, only
    // to IPv6 listeners (and `::`, which takes both).
    expect(findShadowedListener([port(80, '::')], [listener('0.0.0.0', 80)], false)).toBeUndefined();
    expect(findShadowedListener([port(80, '::')], [listener('0.0.0.0', 80)], true)).toBeUndefined();
    expect(findShadowedListener([port(80, 'fd00::1')], [listener('0.0.0.0', 80)], true)).toBeUndefined();
    expect(findShadowedListener([port(80, 'fd00::1')], [listener('::', 80)], true)).toBeDefined();
    expect(findShadowedListener([port(80, '0.0.0.0')], [listener('fd00::1', 80)], true)).toBeUndefined();
  });
});
