// A container's cgroups, removed with it. runc removes the cgroup directories it recorded in its
// state, in every hierarchy (v1 controllers, name=systemd, the unified v2 tree of a hybrid host),
// but only while that state exists: when it is gone (--state wiped, a kill -9 between runc making
// the cgroups and writing its state) `runc delete` says "does not exist" and the empty cgroups stay
// under /berth forever. So removal also walks every mounted cgroup hierarchy itself. A pod with
// pod-level resources has a cgroup of its own, `/berth/pod-…` (pod-cgroup.ts makes and sets it), with
// its containers' inside: a container's removal finds its cgroup there too, and removes every pod
// cgroup it leaves with nothing in it.
import { createHash } from 'node:crypto';
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../lib/errors.js';
import { decodeMountinfoField } from '../lib/mountinfo.js';

const POD_CGROUP = /^pod-[a-f0-9]{32}$/;

/**
 * The cgroup of container `id`, relative to each hierarchy's root (its spec's cgroupsPath): inside
 * its pod's cgroup when the pod has one (pod-level resources: pod-cgroup.ts).
 */
export function containerCgroupPath(id: string, podCgroup?: string): string {
  if (!/^[a-f0-9]{32}$/.test(id)) throw new Error(`bad container id ${id}`);
  if (podCgroup !== undefined && !POD_CGROUP.test(podCgroup)) throw new Error(`bad pod cgroup ${podCgroup}`);
  return podCgroup ? `/berth/${podCgroup}/${id}` : `/berth/${id}`;
}

/**
 * The directory of a pod's cgroup under `/berth`, from its home (`<root>/pods/<identity>`, so that
 * two roots on one host never share one): a digest, so any namespace and name fit in one directory
 * name and none reads as a container id.
 */
export function podCgroupName(podHome: string): string {
  return `pod-${createHash('sha256').update(podHome).digest('hex').slice(0, 32)}`;
}

/** Whether `name` (a directory under `/berth`) is a pod's cgroup. */
export const isPodCgroupName = (name: string) => POD_CGROUP.test(name);

/** Mount points of every cgroup (v1) and cgroup2 file system in a mountinfo text. */
export function cgroupMountPoints(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep === -1) continue;
    const fsType = line.slice(sep + 3).split(' ')[0];
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    const mountPoint = line.slice(0, sep).split(' ')[4];
    if (mountPoint) out.push(decodeMountinfoField(mountPoint));
  }
  return out;
}

export interface CgroupRemoval {
  mountinfo?: string;
  sleep?: (ms: number) => Promise<void>;
  /** How long processes still inside (being killed) may take to leave. */
  waitMs?: number;
}

/**
 * Remove container `id`'s cgroups wherever they are (`/berth/<id>`, or inside any pod's cgroup),
 * then every pod cgroup left empty: a pod's goes with its last container, whichever path removes it
 * (rm, an orphan reaped, a create undone), and at a reboot it is gone with every other cgroup.
 */
export async function removeContainerCgroups(id: string, options: CgroupRemoval = {}): Promise<void> {
  const mountinfo = options.mountinfo ?? (await readFile('/proc/self/mountinfo', 'utf8'));
  for (const mount of cgroupMountPoints(mountinfo)) {
    const berth = join(mount, 'berth');
    await removeTree(join(mount, containerCgroupPath(id)), options);
    for (const pod of await podCgroupsIn(berth)) {
      await removeTree(join(berth, pod, id), options);
      await removeIfIdle(join(berth, pod));
    }
  }
}

async function podCgroupsIn(berth: string): Promise<string[]> {
  try {
    return (await readdir(berth)).filter(isPodCgroupName);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/** rmdir a cgroup unless it still has children or processes (EBUSY, ENOTEMPTY): those keep it. */
async function removeIfIdle(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'ENOENT' && code !== 'EBUSY' && code !== 'ENOTEMPTY') throw err;
  }
}

/** Remove `cgroupPath` (and any child cgroups) from every hierarchy; absent ones are done. */
export async function removeCgroups(cgroupPath: string, options: CgroupRemoval = {}): Promise<void> {
  const mountinfo = options.mountinfo ?? (await readFile('/proc/self/mountinfo', 'utf8'));
  for (const mount of cgroupMountPoints(mountinfo)) await removeTree(join(mount, cgroupPath), options);
}

async function removeTree(dir: string, options: CgroupRemoval): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) if (e.isDirectory()) await removeTree(join(dir, e.name), options);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + (options.waitMs ?? 5000);
  for (;;) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw err;
    }
    // Processes are still inside: the container's, which runc no longer knows. They go with it.
    const pids = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    if (Date.now() > deadline) {
      throw new BerthError('ERR_CGROUP_BUSY', 'unavailable', `cgroup ${dir} still has processes`, {
        hint: `pids ${pids.join(', ')}`,
      });
    }
    await sleep(20);
  }
}
