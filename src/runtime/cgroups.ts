// A container's cgroups, removed with it. runc removes the cgroup directories it recorded in its
// state, in every hierarchy (v1 controllers, name=systemd, the unified v2 tree of a hybrid host),
// but only while that state exists: when it is gone (--state wiped, a kill -9 between runc making
// the cgroups and writing its state) `runc delete` says "does not exist" and the empty cgroups stay
// under /berth forever. So removal also walks every mounted cgroup hierarchy itself.
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../lib/errors.js';
import { decodeMountinfoField } from '../lib/mountinfo.js';

/** The cgroup of container `id`, relative to each hierarchy's root (its spec's cgroupsPath). */
export function containerCgroupPath(id: string): string {
  if (!/^[a-f0-9]{32}$/.test(id)) throw new Error(`bad container id ${id}`);
  return `/berth/${id}`;
}

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
