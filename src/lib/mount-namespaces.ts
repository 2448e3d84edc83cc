// Mount namespaces, for a file another process wrote a path into (network/host-ports.ts: a claim
// naming its root's record): the path means what it means in the writer's mount namespace, which
// may not be ours (a berth in a service with a private /tmp, or started under `unshare -m`). Such a
// namespace is seen through any process still in it (`/proc/<pid>/root` resolves paths in that
// process's mounts); one no process is left in is gone, with everything mounted only in it.
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** This process's mount namespace, as `/proc/self/ns/mnt` names it (`mnt:[4026531841]`). */
export function ownMountNamespace(): string {
  return readlinkSync('/proc/self/ns/mnt');
}

/** How a path written in another mount namespace is looked up; one scan of /proc at most, when first needed. */
export interface MountNamespaceViews {
  /**
   * `path` as each process in the mount namespace `ns` sees it (`path` under `root`, its
   * `/proc/<pid>/root`): the first whose `root` still answers is enough; none when no process is
   * left in it.
   */
  pathsIn(ns: string, path: string): Array<{ root: string; path: string }>;
}

export function mountNamespaceViews(): MountNamespaceViews {
  let byNs: Map<string, string[]> | undefined;
  const scan = () => {
    const found = new Map<string, string[]>();
    for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      let ns: string;
      try {
        ns = readlinkSync(`/proc/${pid}/ns/mnt`);
      } catch {
        continue; // gone meanwhile, or a kernel thread
      }
      found.set(ns, [...(found.get(ns) ?? []), pid]);
    }
    return found;
  };
  return {
    pathsIn(ns, path) {
      byNs ??= scan();
      return (byNs.get(ns) ?? []).map((pid) => ({
        root: `/proc/${pid}/root`,
        path: join(`/proc/${pid}/root`, path),
      }));
    },
  };
}
