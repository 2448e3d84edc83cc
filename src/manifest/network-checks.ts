// What a schema cannot say about a pod's network fields, each at its node, so `validate` finds what
// a pass would trip on: the network annotation's value; a hostPort outside the bridge network (on
// the host's network it must equal containerPort, as Kubernetes requires; loopback-only has nothing
// to publish); dnsPolicy None without a nameserver (Kubernetes refuses it: the pod would have an
// empty resolv.conf); addresses that only look like IPs; a search list past what Kubernetes and
// resolvers take (labels of 63, 2048 characters in all); a hostnameOverride with hostNetwork. Pure.
import { isIP } from 'node:net';
import type { PodManifest } from './kinds.js';

export const NETWORK_ANNOTATION = 'berth.dev/network';

export type PodNetworkMode = 'bridge' | 'none' | 'host';

export interface FieldProblem {
  path: Array<string | number>;
  message: string;
}

const MAX_SEARCH_CHARS = 2048;

/** The network the pod asks for; a problem when the annotation names none berth has. */
export function networkModeOf(pod: PodManifest): PodNetworkMode | FieldProblem {
  if (pod.spec.hostNetwork === true) return 'host';
  const asked = pod.metadata.annotations?.[NETWORK_ANNOTATION];
  // Left blank (a chart's unset value: `berth.dev/network:` is "" as a cluster decodes it) is the default.
  if (asked === undefined || asked === '' || asked === 'bridge') return 'bridge';
  if (asked === 'none') return 'none';
  return {
    path: ['metadata', 'annotations', NETWORK_ANNOTATION],
    message: `annotation ${NETWORK_ANNOTATION} must be bridge or none, not "${asked}" (hostNetwork: true for the host's)`,
  };
}

/** A hostPort off the bridge network: the first one that cannot be, if any. */
export function portOutsideBridge(pod: PodManifest, mode: 'none' | 'host'): FieldProblem | undefined {
  for (const [i, c] of pod.spec.containers.entries())
    for (const [j, p] of (c.ports ?? []).entries()) {
      if (p.hostPort === undefined) continue;
      const path = ['spec', 'containers', i, 'ports', j, 'hostPort'];
      if (mode === 'none')
        return {
          path,
          message: `container ${c.name}: hostPort ${p.hostPort} needs the bridge network (${NETWORK_ANNOTATION}: none has only loopback)`,
        };
      if (p.hostPort !== p.containerPort)
        return {
          path,
          message: `container ${c.name}: with hostNetwork, hostPort ${p.hostPort} must equal containerPort ${p.containerPort}`,
        };
    }
  return undefined;
}

export function podNetworkProblems(pod: PodManifest): FieldProblem[] {
  const out: FieldProblem[] = [];
  const mode = networkModeOf(pod);
  if (typeof mode !== 'string') out.push(mode);
  else if (mode !== 'bridge') {
    const port = portOutsideBridge(pod, mode);
    if (port) out.push(port);
  }
  if (pod.spec.hostNetwork === true && pod.spec.hostnameOverride !== undefined)
    out.push({
      path: ['spec', 'hostnameOverride'],
      message:
        "hostnameOverride cannot be set with hostNetwork: the pod's hostname is the host's (a cluster refuses it too)",
    });
  const dns = pod.spec.dnsConfig;
  if (pod.spec.dnsPolicy === 'None' && (dns?.nameservers ?? []).length === 0)
    out.push({
      path: dns ? ['spec', 'dnsConfig'] : ['spec', 'dnsPolicy'],
      message:
        'dnsPolicy None takes the pod its DNS from dnsConfig alone: give at least one dnsConfig.nameservers',
    });
  for (const [i, ns] of (dns?.nameservers ?? []).entries())
    if (isIP(ns) === 0)
      out.push({
        path: ['spec', 'dnsConfig', 'nameservers', i],
        message: `nameserver "${ns}" is not an IP address`,
      });
  for (const [i, alias] of (pod.spec.hostAliases ?? []).entries())
    if (isIP(alias.ip) === 0)
      out.push({
        path: ['spec', 'hostAliases', i, 'ip'],
        message: `hostAliases ip "${alias.ip}" is not an IP address`,
      });
  const searches = dns?.searches ?? [];
  for (const [i, search] of searches.entries()) {
    const long = search.split('.').find((label) => label.length > 63);
    if (long !== undefined)
      out.push({
        path: ['spec', 'dnsConfig', 'searches', i],
        message: `search domain "${search}" has a label of ${long.length} characters (at most 63)`,
      });
  }
  const chars = searches.join(' ').length;
  if (chars > MAX_SEARCH_CHARS)
    out.push({
      path: ['spec', 'dnsConfig', 'searches'],
      message: `the search list is ${chars} characters; at most ${MAX_SEARCH_CHARS}, as in Kubernetes`,
    });
  return out;
}
