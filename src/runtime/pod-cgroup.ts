// A pod's own cgroup (pod-level resources): `/berth/<pod-…>` in the hierarchies that hold the cpu
// and memory controllers, carrying the pod's cpu quota and shares and its memory limit, with each
// container's cgroup made inside it by runc (which sets only the container's own). runc never
// configures a parent, so berth makes and sets it: before each container's create, and again after
// it (before the container's process runs), since a pod cgroup found idle by another removal may
// have gone in between and been made again by runc, bare (cgroups.ts removeContainerCgroups); one
// removed between its mkdir and its writes is made again and written whole.
// Every file is written each time, unset values as the kernel's "none", so a pod whose limits
// changed gets the new ones. Removal: with the pod's last container (cgroups.ts).
// cgroup v1 (a hybrid host: controllers on v1, an empty unified tree) and v2 (the unified tree has
// the controllers: they are enabled down to the pod's cgroup first).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../lib/errors.js';
import { decodeMountinfoField } from '../lib/mountinfo.js';
import { isPodCgroupName } from './cgroups.js';
import { type ContainerResources, CPU_PERIOD_US, cpuQuotaOf, type PodCgroup } from './resources.js';

/** A file to write in the pod's cgroup; `optional` ones are skipped where the kernel has none (swap accounting). */
export interface CgroupFile {
  controller: 'cpu' | 'memory';
  file: string;
  value: string;
  optional?: true;
}

/** v1: in the order they must go (the memory+swap limit never below the memory limit). */
export function v1Files(r: ContainerResources): CgroupFile[] {
  const memory = r.memoryBytes === undefined ? '-1' : String(r.memoryBytes);
  const low =
    r.memoryReservationBytes === undefined
      ? undefined
      : Math.min(r.memoryReservationBytes, r.memoryBytes ?? Infinity);
  return [
    { controller: 'cpu', file: 'cpu.cfs_period_us', value: String(CPU_PERIOD_US) },
    {
      controller: 'cpu',
      file: 'cpu.cfs_quota_us',
      value: r.milliCpus === undefined ? '-1' : String(cpuQuotaOf(r.milliCpus)),
    },
    { controller: 'cpu', file: 'cpu.shares', value: String(r.cpuShares ?? 1024) },
    { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: '-1', optional: true },
    { controller: 'memory', file: 'memory.limit_in_bytes', value: memory },
    { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: memory, optional: true },
    {
      controller: 'memory',
      file: 'memory.soft_limit_in_bytes',
      value: low === undefined ? '-1' : String(low),
    },
  ];
}

/** cpu shares as a v2 weight (runc's conversion: 2…262144 onto 1…10000). */
export const weightOf = (shares: number) => Math.floor(1 + ((shares - 2) * 9999) / 262142);

export function v2Files(r: ContainerResources): CgroupFile[] {
  const quota = r.milliCpus === undefined ? 'max' : String(cpuQuotaOf(r.milliCpus));
  const low =
    r.memoryReservationBytes === undefined
      ? 0
      : Math.min(r.memoryReservationBytes, r.memoryBytes ?? Infinity);
  return [
    { controller: 'cpu', file: 'cpu.max', value: `${quota} ${CPU_PERIOD_US}` },
    {
      controller: 'cpu',
      file: 'cpu.weight',
      value: String(r.cpuShares === undefined ? 100 : weightOf(r.cpuShares)),
    },
    {
      controller: 'memory',
      file: 'memory.max',
      value: r.memoryBytes === undefined ? 'max' : String(r.memoryBytes),
    },
    {
      controller: 'memory',
      file: 'memory.swap.max',
      value: r.memoryBytes === undefined ? 'max' : '0',
      optional: true,
    },
    { controller: 'memory', file: 'memory.low', value: String(low) },
  ];
}

interface CgroupMount {
  path: string;
  version: 1 | 2;
  /** v1: the controllers it holds (its super options). */
  controllers: string[];
}

function cgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep === -1) continue;
    const [fsType, , options = ''] = line.slice(sep + 3).split(' ');
    const mountPoint = line.slice(0, sep).split(' ')[4];
    if (!mountPoint || (fsType !== 'cgroup' && fsType !== 'cgroup2')) continue;
    out.push({
      path: decodeMountinfoField(mountPoint),
      version: fsType === 'cgroup' ? 1 : 2,
      controllers: fsType === 'cgroup' ? options.split(',') : [],
    });
  }
  return out;
}

export interface PodCgroupOptions {
  mountinfo?: string;
}

/**
 * How many times one hierarchy's pod cgroup is made and set when it vanishes meanwhile: any
 * container's removal takes every idle pod cgroup away (cgroups.ts), another pod's or another
 * root's too, and a pod cgroup just made is idle until runc puts a container in it.
 */
const ATTEMPTS = 8;

/** Make pod cgroup `pod.name` where cpu and memory are controlled and write its limits. Idempotent. */
export async function ensurePodCgroup(pod: PodCgroup, options: PodCgroupOptions = {}): Promise<void> {
  if (!isPodCgroupName(pod.name)) throw new Error(`bad pod cgroup ${pod.name}`);
  const mounts = cgroupMounts(options.mountinfo ?? (await readFile('/proc/self/mountinfo', 'utf8')));
  for (const m of mounts) {
    for (let attempt = 1; ; attempt++) {
      try {
        await ensureIn(m, pod);
        break;
      } catch (err) {
        // Removed between its mkdir and a write (ENOENT; ENODEV: the file was open as it went): made
        // again, with every file.
        const code = err instanceof BerthError ? errnoCode(err.cause) : undefined;
        if (attempt >= ATTEMPTS || (code !== 'ENOENT' && code !== 'ENODEV')) throw err;
      }
    }
  }
}

async function ensureIn(m: CgroupMount, pod: PodCgroup): Promise<void> {
  if (m.version === 1) {
    const files = v1Files(pod.resources).filter((f) => m.controllers.includes(f.controller));
    if (files.length === 0) return;
    const dir = join(m.path, 'berth', pod.name);
    const quota = files.find((f) => f.file === 'cpu.cfs_quota_us')?.value;
    if (quota !== undefined && quota !== '-1') await capChildQuotas(dir, Number(quota));
    await writeFiles(dir, files);
    return;
  }
  const available = (await readFile(join(m.path, 'cgroup.controllers'), 'utf8').catch(() => ''))
    .split(/\s+/)
    .filter((c) => c === 'cpu' || c === 'memory');
  if (available.length === 0) return; // a hybrid host's unified tree: v1 has the controllers
  await mkdir(join(m.path, 'berth', pod.name), { recursive: true });
  // Enabled from the top down: a controller reaches a cgroup only through its parent's subtree_control.
  for (const dir of [m.path, join(m.path, 'berth'), join(m.path, 'berth', pod.name)])
    await writeCgroupFile(dir, 'cgroup.subtree_control', available.map((c) => `+${c}`).join(' '));
  const files = v2Files(pod.resources).filter((f) => available.includes(f.controller));
  await writeFiles(join(m.path, 'berth', pod.name), files);
}

/**
 * v1 refuses a parent a cpu quota below one of its children's (EINVAL): a pod's limit lowered while
 * a container made under the higher one is still there (replaced next, being recreated for that very
 * change) would fail the new container's create. Such a child is first brought down to the pod's.
 */
async function capChildQuotas(dir: string, quota: number): Promise<void> {
  const children = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const child of children.filter((e) => e.isDirectory())) {
    const at = join(dir, child.name);
    const now = Number((await readFile(join(at, 'cpu.cfs_quota_us'), 'utf8').catch(() => '-1')).trim());
    if (now > quota) await writeCgroupFile(at, 'cpu.cfs_quota_us', String(quota));
  }
}

async function writeFiles(dir: string, files: CgroupFile[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const f of files) {
    if (f.optional && !existsSync(join(dir, f.file))) continue;
    await writeCgroupFile(dir, f.file, f.value);
  }
}

async function writeCgroupFile(dir: string, file: string, value: string): Promise<void> {
  try {
    await writeFile(join(dir, file), value);
  } catch (err) {
    throw new BerthError(
      'ERR_POD_CGROUP',
      'unavailable',
      `pod cgroup ${dir}: cannot write ${value} to ${file} (${errnoCode(err) ?? String(err)})`,
      {
        cause: err,
        hint: 'a pod limit below what its containers use or are limited to is refused by the kernel',
      },
    );
  }
}
