// A port (or a run of ports) for a test to publish or listen on. Drawn at random below the kernel's
// ephemeral range: a port in that range (what a bind to port 0 hands out) can be taken between the
// check and the test's own bind by any outgoing connection on the host, as a CI run saw (EADDRINUSE
// on a port a bind to 0 had just given), or be listened on by another test file's server that asked
// for port 0; one below it is taken only by an explicit bind.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const FLOOR = 10_000;

/** The lowest port the kernel hands out on its own (ip_local_port_range), 32768 where unreadable. */
function ephemeralFloor(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > FLOOR + 1000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const tcpFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });

const udpFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });

const bothFree = async (port: number) => (await tcpFree(port)) && (await udpFree(port));

/** A port free for TCP and UDP on every IPv4 address, below the ephemeral range. */
export function freePort(): Promise<number> {
  return freePortRun(1);
}

/**
 * The first of `count` consecutive ports, each free for TCP and UDP on every IPv4 address, all below
 * the ephemeral range (a test publishing base, base + 1, …).
 */
export async function freePortRun(count: number): Promise<number> {
  const top = ephemeralFloor();
  for (let tries = 0; tries < 100; tries++) {
    const base = FLOOR + Math.floor(Math.random() * (top - FLOOR - count + 1));
    let free = true;
    for (let port = base; free && port < base + count; port++) free = await bothFree(port);
    if (free) return base;
  }
  throw new Error(`no ${count} free port(s) in a row found between ${FLOOR} and ${top}`);
}
