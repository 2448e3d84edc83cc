// Which network a pod is on and what it asks of it, from its manifest: `hostNetwork: true` keeps
// the host's; the annotation `berth.dev/network: none` keeps a namespace with only loopback;
// otherwise the bridge network, with its containers' published ports, its names (its own, NAME.NAMESPACE
// and its hostname) and hostAliases in a hosts file in the pod's directory, and its DNS settings. Pure.
import { join } from 'node:path';
import { BerthError } from '../lib/errors.js';
import { namespaceOf } from '../manifest/identity.js';
import type { PodManifest } from '../manifest/kinds.js';
import { networkModeOf, type PodNetworkMode, portOutsideBridge } from '../manifest/network-checks.js';
import type { DnsSettings, HostEntry } from './names.js';
import { type PortMapping, publishedPorts } from './ports.js';

export { NETWORK_ANNOTATION, type PodNetworkMode } from '../manifest/network-checks.js';

export interface PodNetwork {
  ports: PortMapping[];
  names: string[];
  aliases: HostEntry[];
  /** `<root>/pods/<name>/hosts`, bind-mounted as each container's /etc/hosts. */
  hostsFile: string;
  dns: DnsSettings;
}

export function podNetworkMode(pod: PodManifest): PodNetworkMode {
  const mode = networkModeOf(pod);
  if (typeof mode !== 'string') throw new BerthError('ERR_MANIFEST_INVALID', 'invalid', mode.message);
  return mode;
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
  return {
    ports: publishedPorts(pod.spec.containers.flatMap((c) => c.ports ?? [])),
    names,
    aliases: podAliasesOf(pod),
    hostsFile: join(home, 'hosts'),
    dns: podDnsOf(pod),
  };
}

/** The pod's dnsPolicy and dnsConfig, as the resolv.conf maker takes them. */
export function podDnsOf(pod: PodManifest): DnsSettings {
  return {
    ...(pod.spec.dnsPolicy ? { policy: pod.spec.dnsPolicy } : {}),
    ...(pod.spec.dnsConfig?.nameservers ? { nameservers: pod.spec.dnsConfig.nameservers } : {}),
    ...(pod.spec.dnsConfig?.searches ? { searches: pod.spec.dnsConfig.searches } : {}),
    ...(pod.spec.dnsConfig?.options ? { options: pod.spec.dnsConfig.options } : {}),
  };
}

export function podAliasesOf(pod: PodManifest): HostEntry[] {
  return (pod.spec.hostAliases ?? [])
    .filter((a) => (a.hostnames ?? []).length > 0)
    .map((a) => ({ ip: a.ip, names: a.hostnames as string[] }));
}

/**
 * A hostPort means something only on the bridge network: on the host's network the container
 * listens there itself (Kubernetes requires hostPort = containerPort), and a loopback-only pod has
 * nothing to publish. Either is an error of the manifest rather than a port silently not published
 * (the loader says so at the field: manifest/network-checks.ts).
 */
function checkPortsOutsideBridge(pod: PodManifest, mode: 'none' | 'host'): void {
  const problem = portOutsideBridge(pod, mode);
  if (problem) throw new BerthError('ERR_MANIFEST_INVALID', 'invalid', problem.message);
}
