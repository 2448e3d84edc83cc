// Which pods must wait for a host port another pod holds: a pod already on the network with its
// ports keeps them; the others claim theirs in name order (so after a reboot, when nobody holds
// anything, the same pod wins every time). A pod that would collide waits, with the holder named,
// and takes the port in the pass after the holder lets it go; the holder is never touched. Ports
// other berth roots' pods hold (`elsewhere`: network/host-ports.ts) are held the same way. Pure.
import { describePort, PortHolders, type PortMapping } from '../network/ports.js';
import type { DesiredPod } from './desired.js';
import type { ObservedSandbox } from './sandbox.js';

export function planPortWaits(
  pods: DesiredPod[],
  sandboxes: Map<string, ObservedSandbox>,
  elsewhere: Array<{ owner: string; ports: PortMapping[] }> = [],
): Map<string, string> {
  // Keyed by port, so each pod's check costs its own ports, not every port claimed before it.
  const claims = new PortHolders();
  for (const e of elsewhere) claims.add(e.owner, e.ports);
  for (const [name, s] of [...sandboxes].sort(([a], [b]) => a.localeCompare(b)))
    if (s.network?.state === 'ready' && s.network.ports.length > 0)
      claims.add(`pod ${name}`, s.network.ports);
  const waits = new Map<string, string>();
  for (const pod of [...pods].sort((a, b) => a.name.localeCompare(b.name))) {
    const ports = pod.network?.ports ?? [];
    if (ports.length === 0) continue;
    const held = sandboxes.get(pod.name)?.network;
    if (held?.state === 'ready' && JSON.stringify(held.ports) === JSON.stringify(ports)) continue;
    const clash = claims.conflict(ports, `pod ${pod.name}`);
    if (clash) {
      waits.set(
        pod.name,
        `${pod.name}: ERR_PORT_CONFLICT: host port ${describePort(clash.port)} is already published by ${clash.owner}`,
      );
      continue;
    }
    claims.add(`pod ${pod.name}`, ports);
  }
  return waits;
}
