// Whether a holder is still on the bridge as its ADD left it: the host's side of it (the bridge and
// the holder's veth, the result's interfaces outside the pod) are links of the network namespace
// berth runs in, the veth a port of the bridge. The links are read from /proc/self/net/dev, which
// answers for the reader's namespace, and whose port is whose from /sys/class/net only when it
// lists the same links (it answers for the namespace that mounted /sys: bridge-links.ts): a file,
// a directory and a readlink per pod, no process, cheap enough for every pass. Someone's `ip link
// del` of the bridge or a veth is seen so, and the next pass puts the pod back on it (adapter.ts).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CniResult } from './conflist.js';

export const NET_DEV = '/proc/self/net/dev';
const SYS_NET = '/sys/class/net';

/** The interface names of a `net/dev` text (two header lines, then `NAME: counters`; pure). */
export function parseNetDev(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':'); // never in an interface name (the kernel refuses it)
    if (colon > 0) names.add(line.slice(0, colon).trim());
  }
  return names;
}

export interface HostLinks {
  /** The links of berth's network namespace. */
  names: Set<string>;
  /** A link's bridge, from /sys/class/net when it lists the same links (else unknown). */
  masterOf?: (link: string) => string | undefined;
}

/** The links here; undefined when they cannot be read (nothing is then taken for lost). */
export function hostLinksNow(netDev = NET_DEV, sysNet = SYS_NET): HostLinks | undefined {
  let names: Set<string>;
  try {
    names = parseNetDev(readFileSync(netDev, 'utf8'));
  } catch {
    return undefined;
  }
  let sys: string[];
  try {
    sys = readdirSync(sysNet);
  } catch {
    sys = [];
  }
  // A /sys mounted by another network namespace lists other links: its `master` says nothing here.
  if (sys.length !== names.size || !sys.every((n) => names.has(n))) return { names };
  const masterOf = (link: string) => {
    try {
      return basename(readlinkSync(join(sysNet, link, 'master')));
    } catch {
      return undefined;
    }
  };
  return { names, masterOf };
}

/** The host's links of an ADD result: the bridge and the holder's veth (pure). */
export const hostLinksOf = (result: CniResult | undefined): string[] =>
  (result?.interfaces ?? []).filter((i) => !i.sandbox && i.name).map((i) => i.name);

/**
 * Whether the holder is off the bridge its ADD put it on: a link of it gone, or its veth no
 * longer a port of its bridge (a bridge deleted and made again by another pod's ADD).
 */
export function linksLost(result: CniResult | undefined, here: HostLinks | undefined): boolean {
  const links = hostLinksOf(result);
  if (!here || links.length === 0) return false;
  if (links.some((name) => !here.names.has(name))) return true;
  const { masterOf } = here;
  return masterOf !== undefined && links.length > 1 && !links.some((l) => links.includes(masterOf(l) ?? ''));
}
