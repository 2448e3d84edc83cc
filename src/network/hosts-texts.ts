// Every pod's hosts file when a pod joined or left the network: the same text as names.ts'
// hostsFileText gives each pod, without sorting and formatting every peer again for every
// pod (quadratic in pods: a host of 300 pods spent tens of ms on the path of each new pod's start).
// The peers are sorted and their lines made once; when a name is claimed by two addresses (a peer's
// line then loses that name in some files, and may sort elsewhere), or a peer claims a name a pod's
// file gives before its peers (localhost's, the pod's hostAliases': names.ts, namesGivenBy), that pod
// gets hostsFileText's own answer. Pure. `hostsOwner` is a ready holder's record as these files name it.
import type { Attachment } from './attachments.js';
import { type HostEntry, hostsFileText, LOCALHOST_LINES, LOCALHOST_NAMES } from './names.js';

export interface HostsFileOwner {
  key: string;
  own: HostEntry;
  aliases: HostEntry[];
}

/** A ready holder as the hosts files name it. */
export const hostsOwner = (a: Attachment): HostsFileOwner => ({
  key: a.key,
  own: { ip: a.ip as string, ips: a.ips ?? [], names: a.names },
  aliases: a.aliases ?? [],
});

const line = (e: HostEntry) =>
  [e.ip, ...(e.ips ?? []).filter((ip) => ip !== e.ip)].map((ip) => `${ip}\t${e.names.join(' ')}\n`).join('');

/**
 * A maker of each owner's hosts file text (the peers sorted and their lines made once); a pod's
 * peers are every other owner (by address).
 */
export function hostsFileTexter(owners: readonly HostsFileOwner[]): (o: HostsFileOwner) => string {
  const sorted = owners
    .map((o) => o.own)
    .filter((e) => e.names.length > 0)
    .sort((a, b) => (a.names[0] as string).localeCompare(b.names[0] as string))
    .map((e) => ({ entry: e, line: line(e) }));
  // Who claims each name: when two addresses claim one, every pod takes the slow path (which of
  // them a pod's file lists depends on the pod: names.ts, nameWinners).
  const claims = new Map<string, Set<string>>();
  for (const o of owners)
    for (const n of o.own.names) claims.set(n, (claims.get(n) ?? new Set()).add(o.own.ip));
  const shared = [...claims].some(([n, ips]) => ips.size > 1 || LOCALHOST_NAMES.includes(n));
  // A peer named after one of the reader's hostAliases loses that name in the reader's file.
  const aliasClaimed = (o: HostsFileOwner) =>
    o.aliases.some((a) => a.names.some((n) => [...(claims.get(n) ?? [])].some((ip) => ip !== o.own.ip)));
  return (o) => {
    if (shared || aliasClaimed(o)) {
      const peers = owners.filter((p) => p.own.ip !== o.own.ip).map((p) => p.own);
      return hostsFileText(o.own, peers, o.aliases);
    }
    let text = `${LOCALHOST_LINES}${line(o.own)}`;
    const others = sorted.filter((s) => s.entry.ip !== o.own.ip);
    if (others.length > 0) text += `# pods on this network\n${others.map((s) => s.line).join('')}`;
    if (o.aliases.length > 0) text += `# hostAliases\n${o.aliases.map(line).join('')}`;
    return text;
  };
}
