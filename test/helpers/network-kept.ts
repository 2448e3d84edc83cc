// What a berth network keeps on the host between pods (the bridge and its rules stay after the last
// pod until `berth network rm`), as iptables-save prints it: the tests compare a host "after the last
// pod is gone" with this, and a host after `network rm` with the one before the test.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NETWORK_LOCK_DIR } from '../../src/network/adapter.js';
import { ipamStoreOf } from '../../src/network/ipam-store.js';

/**
 * The addresses allocated on `bridge`, by every root (host-local's files in the host-wide directory,
 * network/ipam-store.ts), sorted.
 */
export function bridgeAllocations(bridge: string, lockDir = NETWORK_LOCK_DIR): string[] {
  const { dir } = ipamStoreOf(lockDir, bridge);
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f !== 'lock' && !f.startsWith('last_reserved_ip.'))
        .sort()
    : [];
}

/** The network's own IPv4 rules and mark chain, in iptables-save's order (filter, then nat). */
export function keptNetworkRules(net: string, bridge: string, subnet: string): string[] {
  const c = `-m comment --comment "berth network ${net}"`;
  return [
    `-A INPUT -d 127.0.0.0/8 -i ${bridge} -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT ${c} -j DROP`,
    `-A FORWARD -o ${bridge} -m conntrack --ctstate RELATED,ESTABLISHED,DNAT ${c} -j ACCEPT`,
    `-A FORWARD -i ${bridge} ${c} -j ACCEPT`,
    `:BERTH-MARK-${bridge} - [0:0]`,
    `-A POSTROUTING -o ${bridge} -m mark --mark 0x2000/0x2000 ${c} -j MASQUERADE`,
    `-A POSTROUTING -s ${subnet} ! -d ${subnet} ${c} -j MASQUERADE`,
    `-A BERTH-MARK-${bridge} ${c} -j MARK --set-xmark 0x2000/0x2000`,
  ];
}

/**
 * Removes the host-wide lock file berth keeps for `bridge` (`/run/berth-networks/locks`): berth
 * never removes one (a process may be waiting on it), so a test that made a bridge of its own
 * takes its lock file away at its end, and the host is left as found.
 */
export async function removeBridgeLockFile(bridge: string): Promise<void> {
  await rm(join(NETWORK_LOCK_DIR, 'locks', `bridge-${Buffer.from(bridge).toString('hex')}.lock`), {
    force: true,
  });
  // And its mark as a bridge berth made (network/bridge-marks.ts), when no `network rm` took it,
  // and its allocation directory (host-local's lock and last reserved address; a test checks with
  // bridgeAllocations that no address is left in it first).
  await rm(join(NETWORK_LOCK_DIR, 'made-bridges', bridge), { force: true });
  // And the route_localnet noted for a bridge berth did not make, when no `network rm` put it back.
  await rm(join(NETWORK_LOCK_DIR, 'found-localnet', bridge), { force: true });
  await rm(ipamStoreOf(NETWORK_LOCK_DIR, bridge).dir, { recursive: true, force: true });
}

/**
 * What a reboot does to a root's note that it swept its stray port rules (network/rules-swept.ts):
 * the note names another boot, so the next attach reads the host's rules and sweeps them again,
 * as the first attach after a boot whose saved ruleset was restored does.
 */
export function forgetRulesSwept(state: string): void {
  const dir = join(state, 'network-swept');
  for (const f of existsSync(dir) ? readdirSync(dir) : []) writeFileSync(join(dir, f), '00000000\n');
}
