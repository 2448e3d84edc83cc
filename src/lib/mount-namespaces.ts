// Mount namespaces, for a file another process wrote a path into (network/host-ports.ts: a claim
// naming its root's record): the path means what it means in the writer's mount namespace, which
// may not be ours (a berth in a service with a private /tmp, or started under `unshare -m`). Such a
// namespace is seen through any process still in it (`/proc/<pid>/root` resolves paths in that
// process's mounts); one no process is left in is gone, with everything mounted only in it.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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

/**
 * A process whose view of its mounts can be trusted: root in this user namespace (one a local
 * user made, or a container in a user namespace of its own, could plant any path in a mount
 * namespace that reused a gone one's number). A container without a user namespace is root here
 * too; it sees its own rootfs only, where berth's paths are not.
 */
function trusted(pid: string, userNs: string): boolean {
  try {
    if (readlinkSync(`/proc/${pid}/ns/user`) !== userNs) return false;
    const uid = /^Uid:\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return uid?.[1] === '0' && uid[2] === '0';
  } catch {
    return false; // gone meanwhile
  }
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
      const userNs = readlinkSync('/proc/self/ns/user');
      return (byNs.get(ns) ?? [])
        .filter((pid) => trusted(pid, userNs))
        .map((pid) => ({
          root: `/proc/${pid}/root`,
          path: join(`/proc/${pid}/root`, path),
        }));
    },
  };
}
