// A pod's own resources, its sandbox: its network namespace (`<state>/netns/pod-<name>`, loopback
// up; a hostUsers: false pod's is owned by its user namespace, `netns/userns/pod-<name>`:
// runtime/pod-userns.ts), its PID namespace holder when it shares one (`pidns.json`,
// runtime/pid-holder.ts), its emptyDir volumes (`<root>/pods/<name>/volumes/<volume>`, tmpfs for
// medium Memory) and `<root>/pods/<name>/pod.json`, the manifest it came from (so `apply DIR` tears
// down only DIR's pods). They outlive the pod's containers (a restart keeps them) and go with the
// pod. A reboot takes the namespaces and the tmpfs mounts and leaves the directories: observe says
// what is mounted, and setting up again is idempotent (only what is missing is made).

import { type Dirent, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { chmod, chown, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BerthError, errnoCode } from '../lib/errors.js';
import type { FileCache } from '../lib/file-cache.js';
import { makeDirs } from '../lib/make-dirs.js';
import { readMountPoints } from '../lib/mountinfo.js';
import { writeFileAtomic } from '../lib/write-atomic.js';
import type { NetworkAdapter } from '../network/adapter.js';
import { type Attachment, readAttachmentSync } from '../network/attachments.js';
import { hostLinksNow, linksLost } from '../network/links-here.js';
import { trustedStampSync } from '../runtime/config-volume-record.js';
import { allocateIdRange, USERNS_FILE } from '../runtime/id-range.js';
import { createNetns, removeNetns } from '../runtime/netns.js';
import { isHolderAlive, readHolderRecordSync, startPidHolder, stopPidHolder } from '../runtime/pid-holder.js';
import { createPodNamespaces, podUsernsFileOf } from '../runtime/pod-userns.js';
import { removeBundleDir } from '../runtime/remove-bundle.js';
import { isMountPoint } from '../runtime/rootfs.js';
import { runTool } from '../runtime/tool.js';
import { checkUsernsHost } from '../runtime/userns-host.js';
import { ACTIVE_RECORD_FILE, readActiveRecordSync } from './active-record.js';
import type { DesiredPod, HostLayout } from './desired.js';
import { prepareHostPath } from './host-path-types.js';
import type { ObservedSandbox } from './sandbox.js';

/**
 * A memory emptyDir's tmpfs: no device nodes or setuid binaries a container could plant for the
 * host; bounded (its sizeLimit, else tmpfs' own default, half of RAM, said explicitly); writable by
 * any user in the pod, as Kubernetes makes emptyDirs (0777).
 */
export const TMPFS_OPTIONS = 'nosuid,nodev,mode=0777,size=50%';

export async function setUpPod(pod: DesiredPod, network?: () => Promise<NetworkAdapter>): Promise<void> {
  // The record first: a sandbox half made by a crash is still known to be this folder's.
  await makeDirs(pod.home, 0o700);
  await writeFileAtomic(join(pod.home, 'pod.json'), `${JSON.stringify({ source: pod.file })}\n`, 0o600);
  // hostUsers: false: its ID range first, for its user namespace and its emptyDirs' owner.
  if (pod.userns) checkUsernsHost(pod.name);
  const range = pod.userns ? await allocateIdRange(dirname(pod.home), pod.name, pod.userns) : undefined;
  const userns = range && pod.netnsPath ? podUsernsFileOf(pod.netnsPath) : undefined;
  if (pod.netnsPath && !(await isMountPoint(pod.netnsPath))) {
    await rm(pod.netnsPath, { force: true }); // a file left by a crash or a reboot, not a namespace
    if (range && userns) await createPodNamespaces(userns, pod.netnsPath, range);
    else await createNetns(pod.netnsPath);
  }
  const holder = join(pod.home, 'pidns.json');
  if (!pod.pidHolder)
    await stopPidHolder(holder); // no longer shareProcessNamespace
  else if (!isHolderAlive(readHolderRecordSync(pod.pidHolder)))
    await startPidHolder(pod.pidHolder, userns && (await isMountPoint(userns)) ? userns : undefined);
  if (pod.network && pod.netnsPath) {
    if (!network) throw new BerthError('ERR_NETWORK', 'internal', `pod ${pod.name}: no network adapter`);
    await (await network()).attach({
      key: `pod-${pod.name}`,
      owner: { kind: 'pod', name: pod.name },
      netns: pod.netnsPath,
      ports: pod.network.ports,
      names: pod.network.names,
      hostsFile: pod.network.hostsFile,
      aliases: pod.network.aliases,
    });
  }
  for (const h of pod.hostPaths) if (h.type === 'DirectoryOrCreate') await prepareHostPath(pod.name, h);
  // hostUsers: false: emptyDirs owned by the pod's root, as the kubelet does.
  const root = range?.base ?? 0;
  for (const d of pod.podDirs) {
    await makeDirs(d.path, 0o700);
    if (d.memory && !(await isMountPoint(d.path))) {
      const options =
        d.sizeBytes === undefined ? TMPFS_OPTIONS : TMPFS_OPTIONS.replace('size=50%', `size=${d.sizeBytes}`);
      await runTool('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', d.path], `emptyDir ${d.path}`);
    }
    const mode = d.mode ?? 0o777; // the process umask never decides who may write an emptyDir
    await chmod(d.path, mode);
    if (range && d.fsGroup === undefined) await chown(d.path, root, root);
    if (d.fsGroup !== undefined) {
      // fsGroup, as the kubelet applies it: the volume's group, and setgid so what is made in it
      // keeps that group.
      await chown(d.path, root, root + d.fsGroup);
      await chmod(d.path, mode | 0o2000);
    }
  }
}

export async function tearDownPod(
  name: string,
  host: HostLayout,
  network?: () => Promise<NetworkAdapter>,
): Promise<void> {
  // Its address and port rules first, while the namespace (and the veth in it) is still there.
  if (network) await (await network()).detach(`pod-${name}`);
  await removeNetns(join(host.netns, `pod-${name}`));
  await removeNetns(podUsernsFileOf(join(host.netns, `pod-${name}`)));
  await stopPidHolder(join(host.pods, name, 'pidns.json'));
  const volumes = join(host.pods, name, 'volumes');
  for (const v of await readdir(volumes).catch(() => [] as string[])) {
    const path = join(volumes, v);
    if (await isMountPoint(path)) await runTool('umount', [path], `emptyDir ${path}`);
  }
  await removeBundleDir(join(host.pods, name)); // never rm -r through a tmpfs still mounted
}

// Observation runs on every pass and touches every pod: its reads are synchronous (local metadata,
// microseconds each), where a promise through the thread pool costs about ten times the work in CPU;
// the daemon's cache (file-cache.ts) parses pod.json and attachments once per change.
function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}

function listEntries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}

/** The mount points of this mount namespace (one read of mountinfo per pass). */
async function mountPoints(): Promise<Set<string>> {
  return new Set(await readMountPoints());
}

/** `path` as mountinfo lists it (pods/ or netns/ may be symlinks to another disk). */
function resolved(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}

/** `<dir>/<entry>` as mountinfo lists it, `dir` already resolved: only a symlink needs resolving. */
function resolvedIn(realDir: string, dir: string, entry: Dirent): string {
  return entry.isSymbolicLink() ? resolved(join(dir, entry.name)) : join(realDir, entry.name);
}

function parseSource(text: string): string | undefined {
  try {
    const record = JSON.parse(text) as { source?: unknown };
    return typeof record.source === 'string' ? record.source : undefined;
  } catch {
    return undefined; // unreadable: owner unknown
  }
}

function sourceOf(home: string, cache?: FileCache): string | undefined {
  const file = join(home, 'pod.json');
  try {
    return cache ? cache.read(file, parseSource) : parseSource(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // none (set up before pods were recorded) or unreadable: owner unknown
  }
}

/** Every pod with anything of its own on the host, and what of it is mounted. */
export async function observeSandboxes(
  host: HostLayout,
  cache?: FileCache,
): Promise<Map<string, ObservedSandbox>> {
  return (await observeSandboxesWhere(host, cache)).sandboxes;
}

/**
 * The name of every pod with anything of its own on the host, and the sandboxes of those `only`
 * accepts (all without it): a daemon's pass reads again only the pods its triggers touched.
 */
export async function observeSandboxesWhere(
  host: HostLayout,
  cache?: FileCache,
  only?: (name: string) => boolean,
): Promise<{ names: string[]; sandboxes: Map<string, ObservedSandbox> }> {
  const netnsEntries = new Map(
    listEntries(host.netns)
      .filter((e) => e.name.startsWith('pod-'))
      .map((e) => [e.name.slice(4), e]),
  );
  const names = [...new Set([...netnsEntries.keys(), ...list(host.pods)])];
  const out = new Map<string, ObservedSandbox>();
  const read = only ? names.filter(only) : names;
  if (read.length === 0) return { names, sandboxes: out }; // mountinfo unread
  const mounted = await mountPoints();
  const realNetns = resolved(host.netns);
  // Only the attachments there are read (most pods of a host without a network have none).
  const attachments = host.attachments ? new Set(list(host.attachments)) : undefined;
  const here = attachments && attachments.size > 0 ? hostLinksNow() : undefined; // the host's links
  const lost = (a: Attachment) => a.state === 'ready' && linksLost(a.result, here);
  for (const name of read) {
    const home = join(host.pods, name);
    const files = new Set(list(home)); // one listing: only what is there is opened
    const volumes: Record<string, boolean> = {};
    const stamps: Record<string, string> = {};
    const volumesDir = join(home, 'volumes');
    const entries = files.has('volumes') ? listEntries(volumesDir) : [];
    const realVolumes = entries.length > 0 ? resolved(volumesDir) : volumesDir;
    for (const v of entries) {
      const path = join(volumesDir, v.name);
      volumes[path] = mounted.has(resolvedIn(realVolumes, volumesDir, v));
      const stamp = trustedStampSync(path); // as berth left it, or written again
      if (stamp) stamps[path] = stamp;
    }
    const source = sourceOf(home, cache);
    const key = `pod-${name}`;
    const attached =
      host.attachments && attachments?.has(`${key}.json`)
        ? readAttachmentSync(host.attachments, key, cache)
        : undefined;
    const ns = netnsEntries.get(name);
    const active = files.has(ACTIVE_RECORD_FILE) ? readActiveRecordSync(home, cache) : undefined;
    const pidns = files.has('pidns.json') && isHolderAlive(readHolderRecordSync(join(home, 'pidns.json')));
    out.set(name, {
      ...(files.has(USERNS_FILE) ? { userns: true } : {}),
      netns: ns ? mounted.has(resolvedIn(realNetns, host.netns, ns)) : false,
      ...(pidns ? { pidns } : {}),
      volumes,
      ...(Object.keys(stamps).length > 0 ? { stamps } : {}),
      ...(source ? { source } : {}),
      ...(active ? { active } : {}),
      ...(attached
        ? {
            network: {
              state: attached.state,
              ports: attached.ports,
              names: attached.names,
              aliases: attached.aliases ?? [],
              ...(lost(attached) ? { lost: true } : {}),
            },
          }
        : {}),
    });
  }
  return { names, sandboxes: out };
}
