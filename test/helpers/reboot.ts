// A reboot of one test root, as the host would see it after a power cut: every conmon and
// container process of that root dies at once (SIGKILL, no exit written), every mount under the
// root and the state is gone, `--state` (a tmpfs under /run) is empty, the containers' cgroups are
// gone, and so are the root's address allocations on every bridge (under /run/berth-networks, which
// other roots' tests share: only this root's go); `--root` (under /var/lib) is kept as it was. Only processes of this root are touched, each
// found by the pid its own files name and checked to be that process (a pid may have been reused).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, unlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NETWORK_LOCK_DIR } from '../../src/network/adapter.js';
import { rootTagOf } from '../../src/network/attachments.js';
import { startTimeOf } from '../../src/runtime/runc-state.js';

const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** The container's init process per runc's state.json, if it is still that process. */
function containerPid(state: string, id: string): number | undefined {
  const text = read(join(state, 'runc', id, 'state.json'));
  if (!text) return undefined;
  const s = JSON.parse(text) as { init_process_pid?: number; init_process_start?: number };
  const stat = s.init_process_pid ? read(`/proc/${s.init_process_pid}/stat`) : undefined;
  return stat && startTimeOf(stat) === s.init_process_start ? s.init_process_pid : undefined;
}

/** The container's conmon, if the pid in conmon.pid is a conmon monitoring this container. */
function conmonPid(root: string, id: string): number | undefined {
  const pid = Number(read(join(root, 'containers', id, 'conmon.pid'))?.trim());
  if (!pid) return undefined;
  const cmdline = read(`/proc/${pid}/cmdline`)?.split('\0') ?? [];
  return read(`/proc/${pid}/comm`)?.trim() === 'conmon' && cmdline.includes(id) ? pid : undefined;
}

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !/\) Z /.test(read(`/proc/${pid}/stat`) ?? ') Z ');

async function waitGone(pids: number[]): Promise<void> {
  for (let i = 0; i < 200 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 25));
  const left = pids.filter(alive);
  if (left.length > 0) throw new Error(`simulateReboot: processes ${left.join(', ')} survived SIGKILL`);
}

/** Mount points at or under `dir`, deepest first. */
function mountsUnder(dirs: string[]): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => dirs.some((d) => m === d || m.startsWith(`${d}/`)))
    .sort((a, b) => b.length - a.length);
}

/**
 * Every cgroup of the given containers (`/berth/<id>` or `/berth/pod-…/<id>` in each v1 controller,
 * or v2), and the pod cgroups they leave empty: a reboot takes them all.
 */
function removeCgroups(ids: string[]): void {
  const base = '/sys/fs/cgroup';
  const dirs = existsSync(join(base, 'cgroup.controllers'))
    ? [base]
    : readdirSync(base).map((c) => join(base, c));
  for (const d of dirs) {
    const pods = list(join(d, 'berth')).filter((n) => /^pod-[a-f0-9]{32}$/.test(n));
    for (const id of ids)
      for (const cg of [join(d, 'berth', id), ...pods.map((p) => join(d, 'berth', p, id))])
        if (existsSync(cg)) rmdirSync(cg); // empty once its processes are dead
    for (const p of pods)
      try {
        rmdirSync(join(d, 'berth', p));
      } catch {
        // another pod's, still in use
      }
  }
}

const list = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

/**
 * The root's allocations in every bridge's directory (network/ipam-store.ts): those whose holder's
 * id carries the root's tag on one of the networks it recorded.
 */
function removeAllocations(state: string): void {
  const networks = new Set([
    ...list(join(state, 'network')),
    ...list(join(state, 'network-settings')).map((f) => f.replace(/\.json$/, '')),
  ]);
  const tags = [...networks].map((n) => `berth-${rootTagOf(state, n)}-`);
  const ipam = join(NETWORK_LOCK_DIR, 'ipam');
  for (const bridge of list(ipam))
    for (const file of list(join(ipam, bridge))) {
      const id = read(join(ipam, bridge, file))?.split('\r\n')[0] ?? '';
      if (tags.some((t) => id.startsWith(t))) unlinkSync(join(ipam, bridge, file));
    }
}

export async function simulateReboot(root: string, state: string): Promise<void> {
  const ids = readdirSync(join(root, 'containers')).filter((n) => /^[a-f0-9]{32}$/.test(n));
  // Monitors first, then the containers: nothing gets to write an exit code.
  const conmons = ids.map((id) => conmonPid(root, id)).filter((p): p is number => p !== undefined);
  const inits = ids.map((id) => containerPid(state, id)).filter((p): p is number => p !== undefined);
  for (const pid of conmons) process.kill(pid, 'SIGKILL');
  for (const pid of inits) process.kill(pid, 'SIGKILL');
  await waitGone([...conmons, ...inits]);
  for (const m of mountsUnder([root, state])) {
    try {
      execFileSync('umount', [m], { stdio: 'ignore' });
    } catch {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    }
  }
  removeCgroups(ids);
  removeAllocations(state);
  await rm(state, { recursive: true, force: true });
}
