// What a pod on the network reads to find names: its /etc/hosts (its own name and address, every
// other pod on the network by name, its hostAliases) and its /etc/resolv.conf (the host's, without
// loopback resolvers a pod cannot reach, as Docker and podman do; then dnsPolicy and dnsConfig as
// Kubernetes merges them). Pure.

export interface HostEntry {
  ip: string;
  names: string[];
  /** Its other addresses (a dual-stack pod's IPv6 one): a line each, after the first. */
  ips?: string[];
}

export interface DnsSettings {
  /** ClusterFirst (Kubernetes' default) means Default on one host: there is no cluster DNS. */
  policy?: 'Default' | 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'None';
  nameservers?: string[];
  searches?: string[];
  options?: Array<{ name: string; value?: string }>;
}

/** What every hosts file berth writes starts with. */
export const LOCALHOST_LINES = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';
/** The names LOCALHOST_LINES give loopback: never a peer's in anyone's file. */
export const LOCALHOST_NAMES: readonly string[] = ['localhost', 'ip6-localhost', 'ip6-loopback'];

/** Docker's fallback when the host has no resolver a pod can reach. */
export const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

/**
 * The names a reader's file gives before its peers: its own, localhost's and its hostAliases' (its
 * author's choice, as /etc/hosts comes before DNS in a cluster). A peer is never listed under one:
 * getaddrinfo (glibc's and musl's) returns every line that names a host, so a peer named localhost,
 * or after a reader's alias, would add its address to the reader's answer for that name.
 */
export const namesGivenBy = (own: HostEntry, aliases: HostEntry[]): Set<string> =>
  new Set([...own.names, ...LOCALHOST_NAMES, ...aliases.flatMap((a) => a.names)]);

export function hostsFileText(own: HostEntry, peers: HostEntry[], aliases: HostEntry[]): string {
  const line = (e: HostEntry) =>
    [e.ip, ...(e.ips ?? []).filter((ip) => ip !== e.ip)]
      .map((ip) => `${ip}\t${e.names.join(' ')}\n`)
      .join('');
  const taken = namesGivenBy(own, aliases);
  let text = LOCALHOST_LINES;
  text += line(own);
  const winners = nameWinners(peers, taken, namespaceOfEntry(own));
  const others = peers
    .map((p) => ({ ...p, names: p.names.filter((n) => !taken.has(n) && (winners.get(n) ?? p) === p) }))
    .filter((p) => p.names.length > 0)
    .sort((a, b) => (a.names[0] as string).localeCompare(b.names[0] as string));
  if (others.length > 0) text += `# pods on this network\n${others.map(line).join('')}`;
  if (aliases.length > 0) text += `# hostAliases\n${aliases.map(line).join('')}`;
  return text;
}

/** The hosts file of a container off the bridge network: localhost, its hostname, its hostAliases. */
export function ownHostsText(hostname: string, aliases: HostEntry[] = []): string {
  const lines = aliases.map((a) => `${a.ip}\t${a.names.join(' ')}\n`).join('');
  const head = `${LOCALHOST_LINES}127.0.1.1\t${hostname}\n`;
  return lines ? `${head}# hostAliases\n${lines}` : head;
}

/** A pod's namespace, from its names (`NAME`, `NAME.NAMESPACE`, …: pod-network.ts); none for a container. */
export function namespaceOfEntry(e: HostEntry): string | undefined {
  const [name, qualified] = e.names;
  return name && qualified?.startsWith(`${name}.`) ? qualified.slice(name.length + 1) : undefined;
}

/**
 * A name two peers claim (the same pod name in two namespaces; a pod whose hostname is another
 * pod's name; a pod named `web.default` in another namespace) is listed for one of them only: the
 * pod whose NAME.NAMESPACE it is (it always names its pod), then the pod whose own name it is before
 * one whose hostname it is (no pod takes another's name in everyone's hosts file), in the asker's
 * namespace first (a bare name resolves in one's own namespace, as in Kubernetes), then by name and
 * address.
 */
function nameWinners(
  peers: HostEntry[],
  taken: Set<string>,
  namespace: string | undefined,
): Map<string, HostEntry> {
  const claimants = new Map<string, HostEntry[]>();
  for (const p of peers)
    for (const n of p.names) if (!taken.has(n)) claimants.set(n, [...(claimants.get(n) ?? []), p]);
  const rank = (n: string, e: HostEntry) => [
    namespaceOfEntry(e) !== undefined && e.names[1] === n ? 0 : e.names[0] === n ? 1 : 2,
    namespaceOfEntry(e) === namespace ? 0 : 1,
  ];
  const winners = new Map<string, HostEntry>();
  for (const [n, all] of claimants) {
    if (all.length < 2) continue;
    const [first] = [...all].sort((a, b) => {
      const [ra, rb] = [rank(n, a), rank(n, b)];
      return (
        (ra[0] as number) - (rb[0] as number) ||
        (ra[1] as number) - (rb[1] as number) ||
        (a.names[0] as string).localeCompare(b.names[0] as string) ||
        a.ip.localeCompare(b.ip)
      );
    });
    winners.set(n, first as HostEntry);
  }
  return winners;
}

const isLoopback = (ip: string) => /^127\./.test(ip) || ip === '::1' || /^0*:(0*:)*0*1$/.test(ip);

interface Resolv {
  nameservers: string[];
  searches: string[];
  options: Map<string, string | undefined>;
}

function parseResolv(text: string): Resolv {
  const out: Resolv = { nameservers: [], searches: [], options: new Map() };
  for (const raw of text.split('\n')) {
    const [key, ...rest] = raw
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.searches = rest.filter(Boolean);
    else if (key === 'options')
      for (const o of rest.filter(Boolean)) {
        const [name, value] = o.split(':', 2);
        out.options.set(name as string, value);
      }
  }
  return out;
}

const unique = (xs: string[]) => [...new Set(xs)];

/** `onHost`: a hostNetwork pod, which reaches the host's loopback resolvers (they are kept). */
export function resolvConfText(hostText: string, dns: DnsSettings, onHost = false): string {
  const base: Resolv =
    dns.policy === 'None' ? { nameservers: [], searches: [], options: new Map() } : parseResolv(hostText);
  if (dns.policy !== 'None' && !onHost) {
    base.nameservers = base.nameservers.filter((ip) => !isLoopback(ip));
    if (base.nameservers.length === 0) base.nameservers = [...FALLBACK_NAMESERVERS];
  }
  // Kubernetes' limits: 3 nameservers (the resolver reads no more), 32 search domains.
  const nameservers = unique([...base.nameservers, ...(dns.nameservers ?? [])]).slice(0, 3);
  const searches = unique([...base.searches, ...(dns.searches ?? [])]).slice(0, 32);
  for (const o of dns.options ?? []) base.options.set(o.name, o.value);
  let text = nameservers.map((n) => `nameserver ${n}\n`).join('');
  if (searches.length > 0) text += `search ${searches.join(' ')}\n`;
  const options = [...base.options].map(([k, v]) => (v === undefined ? k : `${k}:${v}`));
  if (options.length > 0) text += `options ${options.join(' ')}\n`;
  return text;
}
