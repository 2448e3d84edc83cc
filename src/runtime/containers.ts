// Containers after creation (create.ts): start, stop (the image's StopSignal, a grace period, then
// SIGKILL), kill, remove, and status. State is read live from runc and conmon's exit files, never
// cached, so any berth process can control containers an earlier one created. conmon writes the
// exit code twice: under --state (`exits/<id>`, gone with /run at a reboot) and in the container's
// persist directory under --root, so a container's last exit outlives a reboot; one that was
// running when the host went down has no exit at all and is `exited` with reason `lost`.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { StoreLock } from '../content/lock.js';
import type { ContentStore } from '../content/types.js';
import { BerthError, errnoCode, hasCode } from '../lib/errors.js';
import type { FileCache } from '../lib/file-cache.js';
import type { NetworkAdapter } from '../network/adapter.js';
import type { SparePool } from '../network/spare-pool.js';
import type { SnapshotStore } from '../snapshot/snapshot-store.js';
import { conmonOf } from './conmon-process.js';
import type { LogRotation } from './log-rotation.js';
import { markImageUsed } from './mark-used.js';
import { removeById } from './orphans.js';
import { containerPaths, type RuntimePaths } from './paths.js';
import { type ContainerRecord, readRecords, writeRecord } from './record.js';
import { removeUnreadableContainer } from './remove-unreadable.js';
import type { Runc } from './runc.js';
import { readLiveState, type StateCache } from './runc-state.js';
import type { SeccompProfile } from './seccomp.js';
import { invalid } from './spec.js';
import { readTerminationMessage } from './termination-message.js';

export interface RuntimeDeps {
  paths: RuntimePaths;
  runc: Runc;
  /** The image side, opened only by the commands that need it (create). */
  images(): Promise<{ store: ContentStore; snapshots: SnapshotStore }>;
  now: () => Date;
  /** The host's hard RLIMIT_NOFILE. */
  nofileHard: number;
  /** The host's capability bounding set. */
  capBound: bigint;
  /** Kept by a long-lived process so runc's state files are parsed once per change. */
  stateCache?: StateCache;
  /** Kept by a long-lived process so the files each pass reads (records, pod.json) are parsed once per change. */
  fileCache?: FileCache;
  /** The profile to convert, or undefined for berth's built-in filter (create only). */
  seccompProfile(): Promise<SeccompProfile | undefined>;
  /** Where a process's text of /etc/resolv.conf comes from. */
  hostResolvConf: string;
  /** Size at which conmon rotates a container's log (the host config's logs.maxBytes; create only). */
  logSizeMax(): Promise<number>;
  /** How many rotated log files to keep, and the lock over their renames; none kept when absent. */
  logRotation?(): Promise<LogRotation>;
  /** How long conmon and `runc create` may take to report (conmon.ts); the host config's. */
  createTimeoutMs?(): Promise<number>;
  /**
   * The lock of a container name (name-lock.ts), held by create from its name check until the
   * record is written; creates of one name at once are not kept apart without it.
   */
  nameLock?(name: string): Promise<StoreLock>;
  /** The host's bridge network (host config `network:`), opened when a pod or container joins it. */
  network?(): Promise<NetworkAdapter>;
  /** The daemon's spare places on that network (network/spare-pool.ts), for `--network bridge` containers. */
  spares?: SparePool;
  sleep?: (ms: number) => Promise<void>;
}

export type ContainerState = 'created' | 'running' | 'exited';

/** Why an exited container has no exit code: its end was never recorded (the host went down). */
export const LOST = 'lost';

export interface ContainerStatus {
  id: string;
  name: string;
  image: string;
  state: ContainerState;
  pid: number | null;
  exitCode: number | null;
  /** The kernel's OOM killer ended it (conmon saw the cgroup's OOM event). */
  oomKilled: boolean;
  /** `lost` when it ended without an exit code being recorded (a reboot, a killed monitor). */
  reason?: typeof LOST | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** What an exited container wrote at its terminationMessagePath (termination-message.ts). */
  terminationMessage?: string;
}

function notFound(name: string): BerthError {
  return new BerthError('ERR_CONTAINER_NOT_FOUND', 'not-found', `no container named "${name}"`);
}

export async function findContainer(deps: RuntimeDeps, name: string): Promise<ContainerRecord> {
  const found = (await readRecords(deps.paths.containers)).find((r) => r.name === name || r.id === name);
  if (!found) throw notFound(name);
  return found;
}

/** An exit code conmon wrote (a number alone on its line; anything else is no exit). */
function exitOf(file: string): { code: number; at: string } | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (!/^-?\d{1,10}$/.test(text)) return undefined;
    return { code: Number(text), at: statSync(file).mtime.toISOString() };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

export async function containerStatus(deps: RuntimeDeps, r: ContainerRecord): Promise<ContainerStatus> {
  // Synchronous reads (see runc-state.ts); the exit file only matters once the process is gone.
  const live = await readLiveState(deps.runc.root, r.id, deps.stateCache);
  if (live?.state === 'running' || live?.state === 'created') {
    // Its paths are not even built: a pass asks this of every container, and most run.
    return {
      id: r.id,
      name: r.name,
      image: r.image,
      state: live.state,
      pid: live.pid,
      exitCode: null,
      oomKilled: false,
      reason: null,
      createdAt: r.createdAt,
      startedAt: r.startedAt ?? null,
      finishedAt: null,
    };
  }
  const p = containerPaths(deps.paths, r.id);
  let exit = exitOf(p.exitFile);
  const oom = existsSync(join(p.persist, 'oom'));
  let state: ContainerState = 'exited';
  // The process just ended and conmon is still writing its exit code: not exited yet.
  if (!exit && conmonOf(p.conmonPidFile, basename(p.dir)) !== undefined) state = 'running';
  // --state lost its exit file (a reboot): the copy under --root has it, unless it never ended.
  else exit ??= exitOf(join(p.persist, 'exit'));
  const message = state === 'exited' ? readTerminationMessage(p.persist) : undefined;
  return {
    id: r.id,
    name: r.name,
    image: r.image,
    state,
    pid: null,
    exitCode: state === 'exited' ? (exit?.code ?? null) : null,
    oomKilled: state === 'exited' && oom,
    reason: state === 'exited' && !exit ? LOST : null,
    createdAt: r.createdAt,
    startedAt: r.startedAt ?? null,
    finishedAt: state === 'exited' ? (exit?.at ?? null) : null,
    ...(message !== undefined ? { terminationMessage: message } : {}),
  };
}

export async function listContainers(deps: RuntimeDeps): Promise<ContainerStatus[]> {
  const records = await readRecords(deps.paths.containers);
  return Promise.all(records.map((r) => containerStatus(deps, r)));
}

export async function startContainer(deps: RuntimeDeps, name: string): Promise<ContainerStatus> {
  return startCreated(deps, await findContainer(deps, name));
}

/** Start the container of record `r` (the one a create just returned: no need to read every record). */
export async function startCreated(deps: RuntimeDeps, r: ContainerRecord): Promise<ContainerStatus> {
  const p = containerPaths(deps.paths, r.id);
  try {
    // Straight to runc (the common case, and the one whose latency users feel); the state is only
    // looked at when it refuses.
    await deps.runc.start(r.id);
  } catch (err) {
    const status = await containerStatus(deps, r);
    if (status.state === 'running') return status;
    if (status.state === 'exited') {
      throw new BerthError(
        'ERR_CONTAINER_EXITED',
        'conflict',
        `container "${r.name}" has exited; remove and create it again`,
      );
    }
    throw err;
  }
  r.startedAt = deps.now().toISOString();
  await writeRecord(p.record, r);
  await deps.images().then(
    ({ store }) => markImageUsed(store, r.image, deps.now()),
    () => undefined, // no store to record in: the container runs all the same
  );
  const pid = Number((await readFile(p.pidFile, 'utf8').catch(() => '')).trim()) || null;
  return {
    id: r.id,
    name: r.name,
    image: r.image,
    state: 'running',
    pid,
    exitCode: null,
    oomKilled: false,
    reason: null,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: null,
  };
}

/** Until the process is gone (false after `ms`), then briefly until conmon has written the exit code. */
async function waitUntilStopped(deps: RuntimeDeps, r: ContainerRecord, ms: number): Promise<boolean> {
  const sleep = deps.sleep ?? ((t: number) => new Promise<void>((res) => setTimeout(res, t)));
  const until = Date.now() + ms;
  for (;;) {
    const s = await containerStatus(deps, r);
    if (s.state !== 'running') break;
    if (Date.now() >= until) return false;
    await sleep(50);
  }
  for (let i = 0; i < 40 && (await containerStatus(deps, r)).exitCode === null; i++) await sleep(25);
  return true;
}

/** StopSignal, up to `graceSeconds` for the process to go, then SIGKILL. */
export async function stopContainer(
  deps: RuntimeDeps,
  name: string,
  graceSeconds: number,
): Promise<ContainerStatus> {
  const r = await findContainer(deps, name);
  const status = await containerStatus(deps, r);
  if (status.state === 'running') {
    await deps.runc.kill(r.id, r.stopSignal);
    if (!(await waitUntilStopped(deps, r, graceSeconds * 1000))) {
      await deps.runc.kill(r.id, 'SIGKILL');
      await waitUntilStopped(deps, r, 10_000);
    }
  } else if (status.state === 'created') {
    await deps.runc.kill(r.id, 'SIGKILL');
    await waitUntilStopped(deps, r, 10_000);
  }
  return containerStatus(deps, r);
}

export async function killContainer(deps: RuntimeDeps, name: string, signal: string): Promise<void> {
  const r = await findContainer(deps, name);
  if (!/^(SIG)?[A-Z0-9]+$|^[0-9]+$/.test(signal)) throw invalid(`"${signal}" is not a signal`);
  const state = (await containerStatus(deps, r)).state;
  if (state !== 'running' && state !== 'created') {
    throw new BerthError('ERR_CONTAINER_NOT_RUNNING', 'conflict', `container "${r.name}" is not running`);
  }
  await deps.runc.kill(r.id, signal);
}

/** Everything of the container goes: runc state, cgroups, rootfs mount, netns, bundle, exit file. */
export async function removeContainer(deps: RuntimeDeps, name: string, force: boolean): Promise<void> {
  let r: ContainerRecord;
  try {
    r = await findContainer(deps, name);
  } catch (err) {
    // One whose record is unreadable (listed as a warning) can still be removed by its id.
    if (force && hasCode(err, 'ERR_CONTAINER_NOT_FOUND') && (await removeUnreadableContainer(deps, name)))
      return;
    throw err;
  }
  const status = await containerStatus(deps, r);
  if (status.state === 'running' && !force) {
    throw new BerthError('ERR_CONTAINER_RUNNING', 'conflict', `container "${r.name}" is running`, {
      hint: 'stop it first, or use --force',
    });
  }
  const joiners = (await readRecords(deps.paths.containers)).filter(
    (o) => o.settings.network === `container:${r.name}` || o.settings.network === `container:${r.id}`,
  );
  if (joiners.length > 0) {
    throw new BerthError(
      'ERR_NETNS_IN_USE',
      'conflict',
      `container "${r.name}" holds the network namespace of ${joiners.map((j) => `"${j.name}"`).join(', ')}`,
      { hint: 'remove those first' },
    );
  }
  // Forced: SIGKILL at once, as `docker rm -f` (a stop signal first only cost its wait; whoever wants
  // a graceful end stops it first: the reconciler does, with the pod's grace period and preStop).
  if (status.state === 'running' || status.state === 'created') {
    await deps.runc.kill(r.id, 'SIGKILL');
    await waitUntilStopped(deps, r, 10_000);
  }
  await removeById(deps, r.id);
}
