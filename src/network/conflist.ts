// The CNI plugin chain for a pod on the network, as the CNI spec's network configuration list
// describes it: `bridge` (a veth into the bridge, the bridge as gateway, hairpin so a pod reaches
// its own published port) with `host-local` IPAM keeping its allocations host-wide per bridge under
// /run/berth-networks (ipam-store.ts: never the host's /var/lib/cni; every berth root on the bridge
// allocates there, so none gives out another's address, and a reboot clears them with the
// addresses; an IPv6 range beside the IPv4 one when the network has one), then
// `portmap` for published ports (only when the pod has some; it publishes them over IPv6 too),
// marking what needs masquerade through the network's own chain.
// Outbound NAT and forwarding are per network, not per pod (host-rules.ts). Pure.
import { createHash } from 'node:crypto';
import type { PortMapping } from './ports.js';
import type { NetworkSettings } from './settings.js';

export const CNI_VERSION = '1.0.0';

export interface PluginConf {
  type: string;
  [key: string]: unknown;
}

/**
 * `ipamDir`: host-local's dataDir; `keep`: the addresses it asks host-local for (a holder put back
 * on the bridge keeps its own).
 */
export function pluginChain(
  net: NetworkSettings,
  ipamDir: string,
  ports: PortMapping[],
  keep: string[] = [],
): PluginConf[] {
  const chain: PluginConf[] = [
    {
      type: 'bridge',
      // host-local keeps its files in dataDir/<the list's name>: the bridge's, so that every root
      // using the bridge shares them whatever it calls the network (the bridge plugin uses the name
      // for nothing else with ipMasq off).
      name: net.bridge,
      // host-local reads the addresses asked for from the list's `args` (CNI's args convention).
      ...(keep.length > 0 ? { args: { cni: { ips: keep } } } : {}),
      bridge: net.bridge,
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
      ipam: {
        type: 'host-local',
        // One range set per family: host-local gives an address from each (dual stack).
        ranges: [[{ subnet: net.subnet }], ...(net.ipv6Subnet ? [[{ subnet: net.ipv6Subnet }]] : [])],
        routes: [{ dst: '0.0.0.0/0' }, ...(net.ipv6Subnet ? [{ dst: '::/0' }] : [])],
        dataDir: ipamDir,
      },
    },
  ];
  if (ports.length > 0) {
    chain.push({
      type: 'portmap',
      capabilities: { portMappings: true },
      snat: true,
      // Our chain (host-rules.ts, kept with the bridge): portmap then makes none of its own for it.
      externalSetMarkChain: markChainOf(net),
      runtimeConfig: {
        portMappings: ports.map((p) => ({
          hostPort: p.hostPort,
          containerPort: p.containerPort,
          protocol: p.protocol,
          ...(p.hostIP ? { hostIP: p.hostIP } : {}),
        })),
      },
    });
  }
  return chain;
}

/** The stdin of one plugin call: the list's name and version, the plugin's conf, the result so far. */
export function pluginInput(net: NetworkSettings, conf: PluginConf, prevResult?: unknown): string {
  return JSON.stringify({
    cniVersion: CNI_VERSION,
    name: net.name,
    ...conf,
    ...(prevResult ? { prevResult } : {}),
  });
}

export interface CniResult {
  ips?: Array<{ address: string; gateway?: string; interface?: number }>;
  interfaces?: Array<{ name: string; mac?: string; sandbox?: string }>;
}

/** The network's chain portmap jumps to for masquerade (at most 26 characters: iptables allows 28). */
export const markChainOf = (net: NetworkSettings) => `BERTH-MARK-${net.bridge}`;

/** The pod's IPv4 address (without the prefix length) from an ADD result. */
export function addressOf(result: CniResult): string | undefined {
  const ip = result.ips?.find((i) => !i.address.includes(':'));
  return ip?.address.split('/')[0];
}

/** Every address of the pod (without prefix lengths) from an ADD result: IPv4 first, then IPv6. */
export function addressesOf(result: CniResult): string[] {
  const all = (result.ips ?? []).map((i) => i.address.split('/')[0] as string);
  return [...all.filter((a) => !a.includes(':')), ...all.filter((a) => a.includes(':'))];
}

/** The host ends of the pod's veths in an ADD result: interfaces outside the pod that are not the bridge. */
export function hostVethsOf(result: CniResult, bridge: string): string[] {
  return (result.interfaces ?? []).filter((i) => !i.sandbox && i.name !== bridge).map((i) => i.name);
}

/** The DNAT chain portmap names for a container (its `CNI-DN-` + sha512(network + id), cut to 28). */
export function portmapChainOf(network: string, containerId: string): string {
  return `CNI-DN-${createHash('sha512')
    .update(network + containerId)
    .digest('hex')
    .slice(0, 21)}`;
}
