// A pod's own resources, its sandbox: its network namespace (`<state>/netns/pod-<name>`, loopback
// up), its emptyDir volumes (`<root>/pods/<name>/volumes/<volume>`, tmpfs for medium Memory) and
// `<root>/pods/<name>/pod.json`, the manifest it came from (so `apply DIR` tears down only DIR's
// pods). They outlive the pod's containers (a restart keeps them) and go with the pod. A reboot
// takes the netns and the tmpfs mounts and leaves the directories: observe says what is mounted,
// and setting up again is idempotent (only what is missing is made).
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { chmod, chown, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { readMountPoints } from '../lib/mountinfo.js';
import { writeFileAtomic } from '../lib/write-atomic.js';
import type { NetworkAdapter } from '../network/adapter.js';
import { readAttachment } from '../network/attachments.js';
import { readDataStampSync } from '../runtime/config-volumes.js';
import { createNetns, removeNetns } from '../runtime/netns.js';
import { removeBundleDir } from '../runtime/remove-bundle.js';
import { isMountPoint } from '../runtime/rootfs.js';
import { runTool } from '../runtime/tool.js';
import { readActiveRecordSync } from './active-record.js';
import type { DesiredPod, HostLayout } from './desired.js';
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
  if (pod.netnsPath && !(await isMountPoint(pod.netnsPath))) {
    await rm(pod.netnsPath, { force: true }); // a file left by a crash or a reboot, not a namespace
    await createNetns(pod.netnsPath);
  }
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
  for (const d of pod.createDirs) await makeDirs(d);
  for (const d of pod.podDirs) {
    await makeDirs(d.path, 0o700);
    if (d.memory && !(await isMountPoint(d.path))) {
      const options =
        d.sizeBytes === undefined ? TMPFS_OPTIONS : TMPFS_OPTIONS.replace('size=50%', `size=${d.sizeBytes}`);
      await runTool('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', d.path], `emptyDir ${d.path}`);
    }
    const mode = d.mode ?? 0o777; // the process umask never decides who may write an emptyDir
    await chmod(d.path, mode);
    if (d.fsGroup !== undefined) {
      // fsGroup, as the kubelet applies it: the volume's group, and setgid so what is made in it
      // keeps that group.
      await chown(d.path, 0, d.fsGroup);
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
  const volumes = join(host.pods, name, 'volumes');
  for (const v of await readdir(volumes).catch(() => [] as string[])) {
    const path = join(volumes, v);
    if (await isMountPoint(path)) await runTool('umount', [path], `emptyDir ${path}`);
  }
  await removeBundleDir(join(host.pods, name)); // never rm -r through a tmpfs still mounted
}

// Observation runs on every pass and touches every pod: its reads are synchronous (local metadata,
// microseconds each), where a promise through the thread pool costs about ten times the work in CPU.
function list(dir: string): string[] {
  try {
    return readdirSync(dir);
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
    return realpathSync(path);
  } catch {
    return path;
  }
}

function sourceOf(home: string): string | undefined {
  try {
    const record = JSON.parse(readFileSync(join(home, 'pod.json'), 'utf8')) as { source?: unknown };
    return typeof record.source === 'string' ? record.source : undefined;
  } catch {
    return undefined; // none (set up before pods were recorded) or unreadable: owner unknown
  }
}

/** Every pod with anything of its own on the host, and what of it is mounted. */
export async function observeSandboxes(host: HostLayout): Promise<Map<string, ObservedSandbox>> {
  const netns = list(host.netns)
    .filter((n) => n.startsWith('pod-'))
    .map((n) => n.slice(4));
  const names = [...new Set([...netns, ...list(host.pods)])];
  const mounted = await mountPoints();
  const out = new Map<string, ObservedSandbox>();
  for (const name of names) {
    const home = join(host.pods, name);
    const volumes: Record<string, boolean> = {};
    const stamps: Record<string, string> = {};
    for (const v of list(join(home, 'volumes'))) {
      const path = join(home, 'volumes', v);
      volumes[path] = mounted.has(resolved(path));
      const stamp = readDataStampSync(path);
      if (stamp) stamps[path] = stamp;
    }
    const source = sourceOf(home);
    const active = readActiveRecordSync(home);
    const attached = host.attachments ? await readAttachment(host.attachments, `pod-${name}`) : undefined;
    out.set(name, {
      netns: mounted.has(resolved(join(host.netns, `pod-${name}`))),
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
            },
          }
        : {}),
    });
  }
  return out;
}
