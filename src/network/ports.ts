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

export const describePort = (p: PortMapping) => `${p.hostIP || '0.0.0.0'}:${p.hostPort}/${p.protocol}`;

/**
 * Two ports overlap at one port and protocol when either is on every address or both are on one:
 * the key a held port is looked up by.
 */
const keyOf = (p: PortMapping) => `${p.hostPort}/${p.protocol}`;

/**
 * Holders' ports by port and protocol, so checking a pod's ports costs those ports, not every port
 * held (a plan checks each pod against all earlier ones: pairwise, a few pods of 40k hostPorts kept
 * the daemon's thread busy for minutes). Holders are kept in the order added; the first one
 * that has a port is the one named.
 */
export class PortHolders {
  private readonly owners: string[] = [];
  /** Per key: the holders (indices, ascending, each once) on every address, on each address, on any. */
  private readonly held = new Map<string, { every: number[]; byIp: Map<string, number[]>; any: number[] }>();

  add(owner: string, ports: PortMapping[]): void {
    const n = this.owners.push(owner) - 1;
    const push = (list: number[]) => list.at(-1) !== n && list.push(n);
    for (const p of ports) {
      const h = this.held.get(keyOf(p)) ?? { every: [], byIp: new Map<string, number[]>(), any: [] };
      if (h.any.length === 0) this.held.set(keyOf(p), h);
      push(h.any);
      if (isEveryAddress(p.hostIP)) push(h.every);
      else {
        const list = h.byIp.get(p.hostIP) ?? [];
        if (list.length === 0) h.byIp.set(p.hostIP, list);
        push(list);
      }
    }
  }

  /** The first of `mine` a holder (other than `except`) has, with the first such holder. */
  conflict(mine: PortMapping[], except?: string): { port: PortMapping; owner: string } | undefined {
    // Each holder is in a list once, so skipping `except` skips as many as hold that name.
    const first = (list: number[] | undefined) => list?.find((n) => this.owners[n] !== except) ?? Infinity;
    for (const port of mine) {
      const h = this.held.get(keyOf(port));
      if (!h) continue;
      const n = isEveryAddress(port.hostIP)
        ? first(h.any)
        : Math.min(first(h.every), first(h.byIp.get(port.hostIP)));
      if (Number.isFinite(n)) return { port, owner: this.owners[n] as string };
    }
    return undefined;
  }
}

/** The first of `mine` another holder has, with that holder; undefined when none collides. */
export function findPortConflict(
  mine: PortMapping[],
  others: Array<{ owner: string; ports: PortMapping[] }>,
): { port: PortMapping; owner: string } | undefined {
  const holders = new PortHolders();
  for (const o of others) holders.add(o.owner, o.ports);
  return holders.conflict(mine);
}

/** A port the pod itself asks for twice: the first that a later one overlaps. */
export function findDuplicatePort(mine: PortMapping[]): PortMapping | undefined {
  // From the end, each port against the later ones: each port is looked up once, by its key.
  const later = new PortHolders();
  let twice: PortMapping | undefined;
  for (let i = mine.length - 1; i >= 0; i--) {
    const p = mine[i] as PortMapping;
    if (later.conflict([p])) twice = p;
    later.add(String(i), [p]);
  }
  return twice;
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
