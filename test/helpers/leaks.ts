// What a crashed berth may leave on the host, seen from outside berth: bundles without a record,
// runc containers and conmon monitors of no container, mounts and network namespaces nothing owns,
// cgroups of containers that are gone, pod directories of no pod. Reads /proc, /sys/fs/cgroup and
// the test's own --root/--state only; each problem is one line for `toEqual([])`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface HostScope {
  /** The test's temp directory: every mount under it is accounted for. */
  work: string;
  root: string;
  state: string;
  /** Pods the manifests define now (their netns, emptyDirs and pod directories may exist). */
  pods: string[];
  /** Every container id the test saw at some point (their cgroups must go with them). */
  seenIds: Set<string>;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Container ids present under --root and runc's state (also feeds `seenIds`). */
export function containerIdsOnDisk(root: string, state: string): string[] {
  const ids = [...list(join(root, 'containers')), ...list(join(state, 'runc'))];
  return [...new Set(ids.filter((n) => /^[a-f0-9]{32}$/.test(n)))];
}

/** A mountinfo field with its octal escapes decoded. */
const decode = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** Mount targets under `prefix`, from the kernel's table (octal escapes decoded), in mount order. */
export function mountsUnder(prefix: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => decode(l.split(' ')[4] as string))
    .filter((t) => t === prefix || t.startsWith(`${prefix}/`));
}

/** conmon processes whose bundle is under `root`: pid → container id. */
export function conmonsOf(root: string): Map<number, string> {
  const out = new Map<number, string>();
  const bundle = `${join(root, 'containers')}/`;
  for (const p of list('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!argv[0]?.endsWith('conmon')) continue;
    const b = argv[argv.indexOf('--bundle') + 1];
    if (argv.includes('--bundle') && b?.startsWith(bundle)) out.set(Number(p), b.slice(bundle.length));
  }
  return out;
}

/**
 * Each mounted cgroup hierarchy with this process's own cgroup in it (`/proc/self/cgroup`): a v1
 * hierarchy is matched by a controller (or `name=`) it mounts, the v2 one by its empty list.
 */
export function ownCgroupDirs(): Array<{ mount: string; own: string }> {
  const own = new Map<string, string>(); // controller → path; '' for v2
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n').filter(Boolean)) {
    const [, controllers = '', ...path] = line.split(':');
    for (const c of controllers.split(',')) own.set(c, path.join(':'));
  }
  const out: Array<{ mount: string; own: string }> = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep === -1) continue;
    const [fsType, , options = ''] = line.slice(sep + 3).split(' ');
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    const mount = decode(line.slice(0, sep).split(' ')[4] as string);
    const keys = fsType === 'cgroup2' ? [''] : options.split(',');
    const path = keys.map((k) => own.get(k)).find((p) => p !== undefined);
    if (path !== undefined) out.push({ mount, own: path });
  }
  return out;
}

/**
 * cgroup directories of container `id`: `/sys/fs/cgroup/<hierarchy>/berth/<id>` (v1) or
 * `/sys/fs/cgroup/berth/<id>` (v2), and `berth/<id>` under this process's own cgroup in each
 * hierarchy, where a berth inside a cgroup namespace made from here (a systemd-nspawn machine) has
 * its `/berth`.
 */
export function cgroupsOf(id: string): string[] {
  const candidates = new Set([
    join('/sys/fs/cgroup/berth', id),
    ...list('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h, 'berth', id)),
    ...ownCgroupDirs().map((d) => join(d.mount, d.own, 'berth', id)),
  ]);
  return [...candidates].filter((c) => {
    try {
      return statSync(c).isDirectory();
    } catch {
      return false;
    }
  });
}

/** Records that parse, by id; a bundle without one, or with a broken one, is a problem. */
function readRecords(
  root: string,
  problems: string[],
): Map<string, { name: string; settings?: { network?: string; netnsPath?: string } }> {
  const out = new Map();
  for (const id of list(join(root, 'containers'))) {
    if (!/^[a-f0-9]{32}$/.test(id)) continue;
    try {
      out.set(id, JSON.parse(readFileSync(join(root, 'containers', id, 'container.json'), 'utf8')));
    } catch (err) {
      problems.push(
        `containers/${id}: bundle without a usable container.json (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  }
  return out;
}

/** Problems on the host (empty: nothing leaked). */
export function findLeaks(scope: HostScope): string[] {
  const problems: string[] = [];
  const { root, state } = scope;
  for (const id of containerIdsOnDisk(root, state)) scope.seenIds.add(id);
  const records = readRecords(root, problems);
  for (const id of list(join(state, 'runc'))) {
    if (/^[a-f0-9]{32}$/.test(id) && !records.has(id)) problems.push(`runc container ${id} without a record`);
  }
  const orphans = new Set(list(join(state, 'runc')));
  for (const [pid, id] of conmonsOf(root)) {
    orphans.add(id);
    if (!records.has(id)) problems.push(`conmon ${pid} of ${id} without a record`);
  }
  for (const id of scope.seenIds) {
    if (records.has(id) || orphans.has(id)) continue; // an orphan's cgroup is part of it
    const left = cgroupsOf(id);
    if (left.length > 0)
      problems.push(`cgroup berth/${id} of a removed container left in ${left.length} hierarchies`);
  }
  const allowed = new Set<string>();
  for (const [id] of records) {
    allowed.add(join(root, 'containers', id, 'rootfs'));
    allowed.add(join(state, 'netns', id));
  }
  for (const pod of scope.pods) {
    allowed.add(join(state, 'netns', `pod-${pod}`));
    for (const v of list(join(root, 'pods', pod, 'volumes')))
      allowed.add(join(root, 'pods', pod, 'volumes', v));
  }
  const seen = new Set<string>();
  for (const m of mountsUnder(scope.work)) {
    if (seen.has(m)) problems.push(`mount ${m} stacked`);
    else if (!allowed.has(m)) problems.push(`mount ${m} of nothing`);
    seen.add(m);
  }
  for (const n of list(join(state, 'netns'))) {
    const path = join(state, 'netns', n);
    if (!allowed.has(path)) problems.push(`netns ${path} of nothing`);
    else if (!seen.has(path)) problems.push(`netns ${path} is a file, not a namespace`);
  }
  for (const p of list(join(root, 'pods'))) {
    if (!scope.pods.includes(p)) problems.push(`pods/${p} of no pod`);
  }
  return problems;
}
