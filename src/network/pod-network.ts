// Which network a pod is on and what it asks of it, from its manifest: `hostNetwork: true` keeps
// the host's; the annotation `berth.dev/network: none` keeps a namespace with only loopback;
// otherwise the bridge network, with its containers' published ports, its names (its own, NAME.NAMESPACE
// and its hostname) and hostAliases in a hosts file in the pod's directory, and its DNS settings. Pure.
import { join } from 'node:path';
import { BerthError } from '../lib/errors.js';
import { namespaceOf } from '../manifest/identity.js';
import type { PodManifest } from '../manifest/kinds.js';
import type { DnsSettings, HostEntry } from './names.js';
import { type PortMapping, publishedPorts } from './ports.js';

export const NETWORK_ANNOTATION = 'berth.dev/network';

export interface PodNetwork {
  ports: PortMapping[];
  names: string[];
  aliases: HostEntry[];
  /** `<root>/pods/<name>/hosts`, bind-mounted as each container's /etc/hosts. */
  hostsFile: string;
  dns: DnsSettings;
}

export type PodNetworkMode = 'bridge' | 'none' | 'host';

export function podNetworkMode(pod: PodManifest): PodNetworkMode {
  if (pod.spec.hostNetwork === true) return 'host';
  const asked = pod.metadata.annotations?.[NETWORK_ANNOTATION];
  if (asked === undefined || asked === 'bridge') return 'bridge';
  if (asked === 'none') return 'none';
  throw new BerthError(
    'ERR_MANIFEST_INVALID',
    'invalid',
    `annotation ${NETWORK_ANNOTATION} must be bridge or none, not "${asked}" (hostNetwork: true for the host's)`,
  );
}

/** The pod's bridge network settings, or undefined when it is not on the bridge network. */
export function podNetworkOf(pod: PodManifest, home: string): PodNetwork | undefined {
  const mode = podNetworkMode(pod);
  if (mode !== 'bridge') {
    checkPortsOutsideBridge(pod, mode);
    return undefined;
  }
  // Its name, NAME.NAMESPACE (as a cluster's DNS has it, without the service suffixes) and hostname.
  const qualified = `${pod.metadata.name}.${namespaceOf(pod.metadata)}`;
  const names = [
    ...new Set([pod.metadata.name, qualified, ...(pod.spec.hostname ? [pod.spec.hostname] : [])]),
  ];
  const dns: DnsSettings = {
    ...(pod.spec.dnsPolicy ? { policy: pod.spec.dnsPolicy } : {}),
    ...(pod.spec.dnsConfig?.nameservers ? { nameservers: pod.spec.dnsConfig.nameservers } : {}),
    ...(pod.spec.dnsConfig?.searches ? { searches: pod.spec.dnsConfig.searches } : {}),
    ...(pod.spec.dnsConfig?.options ? { options: pod.spec.dnsConfig.options } : {}),
  };
  return {
    ports: publishedPorts(pod.spec.containers.flatMap((c) => c.ports ?? [])),
    names,
    aliases: (pod.spec.hostAliases ?? [])
      .filter((a) => (a.hostnames ?? []).length > 0)
      .map((a) => ({ ip: a.ip, names: a.hostnames as string[] })),
    hostsFile: join(home, 'hosts'),
    dns,
  };
}

/**
 * A hostPort means something only on the bridge network: on the host's network the container
 * listens there itself (Kubernetes requires hostPort = containerPort), and a loopback-only pod has
 * nothing to publish. Either is an error of the manifest rather than a port silently not published.
 */
function checkPortsOutsideBridge(pod: PodManifest, mode: 'none' | 'host'): void {
  for (const c of pod.spec.containers)
    for (const p of c.ports ?? []) {
      if (p.hostPort === undefined) continue;
      if (mode === 'none')
        throw new BerthError(
          'ERR_MANIFEST_INVALID',
          'invalid',
          `container ${c.name}: hostPort ${p.hostPort} needs the bridge network (${NETWORK_ANNOTATION}: none has only loopback)`,
        );
      if (p.hostPort !== p.containerPort)
        throw new BerthError(
          'ERR_MANIFEST_INVALID',
          'invalid',
          `container ${c.name}: with hostNetwork, hostPort ${p.hostPort} must equal containerPort ${p.containerPort}`,
        );
    }
}
