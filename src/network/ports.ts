// Published ports (a container's `ports[].hostPort`): normalised as Kubernetes defines them, and
// the rule that two pods never hold one host port: the same port and protocol on the same host
// address, or on any address when either side binds them all. Pure.
export type PortProtocol = 'tcp' | 'udp' | 'sctp';

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
  /** The host address it is published on; empty: every address of the host. */
  hostIP: string;
}

export interface ManifestPort {
  containerPort: number;
  hostPort?: number;
  hostIP?: string;
  protocol?: string;
}

/** Only ports with a hostPort are published (a containerPort alone documents, as in Kubernetes). */
export function publishedPorts(ports: ManifestPort[]): PortMapping[] {
  return ports
    .filter((p) => p.hostPort !== undefined)
    .map((p) => ({
      hostPort: p.hostPort as number,
      containerPort: p.containerPort,
      protocol: (p.protocol ?? 'TCP').toLowerCase() as PortProtocol,
      hostIP: p.hostIP ?? '',
    }));
}

/** Every address: none given, or 0.0.0.0 (portmap matches no destination for it either). */
const isEveryAddress = (hostIP: string) => hostIP === '' || hostIP === '0.0.0.0';

const overlaps = (a: PortMapping, b: PortMapping) =>
  a.hostPort === b.hostPort &&
  a.protocol === b.protocol &&
  (isEveryAddress(a.hostIP) || isEveryAddress(b.hostIP) || a.hostIP === b.hostIP);

export const describePort = (p: PortMapping) => `${p.hostIP || '0.0.0.0'}:${p.hostPort}/${p.protocol}`;

/** The first of `mine` another holder has, with that holder; undefined when none collides. */
export function findPortConflict(
  mine: PortMapping[],
  others: Array<{ owner: string; ports: PortMapping[] }>,
): { port: PortMapping; owner: string } | undefined {
  for (const port of mine)
    for (const o of others) if (o.ports.some((p) => overlaps(port, p))) return { port, owner: o.owner };
  return undefined;
}

/** A port the pod itself asks for twice. */
export function findDuplicatePort(mine: PortMapping[]): PortMapping | undefined {
  return mine.find((p, i) => mine.slice(i + 1).some((q) => overlaps(p, q)));
}

/** `10.89.0.5:8080/tcp ← 0.0.0.0:80` style, for `berth ps`. */
export const formatPort = (p: PortMapping) => `${describePort(p)}->${p.containerPort}`;

/**
 * `--publish [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp|sctp]`, as Docker writes it; undefined when
 * it is not that shape or a port is out of range.
 */
export function parsePublish(text: string): PortMapping | undefined {
  const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(text);
  if (!m) return undefined;
  const [hostPort, containerPort] = [Number(m[2]), Number(m[3])];
  if (![hostPort, containerPort].every((p) => p >= 1 && p <= 65535)) return undefined;
  return { hostPort, containerPort, protocol: (m[4] ?? 'tcp') as PortProtocol, hostIP: m[1] ?? '' };
}
