// Container lifecycle on one host: create (rootfs, netns, config.json, conmon + runc create),
// start, stop (the image's StopSignal, a grace period, then SIGKILL), remove, and status. State
// is read live from runc and conmon's exit files, so any berth process can control containers a
// previous one created. A create that fails undoes every step it took.
import { randomBytes } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { ContentStore } from '../content/types.js';
import { describeImage, findImages } from '../images/index.js';
import { BerthError, errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { chainIds } from '../snapshot/chain.js';
import type { SnapshotStore } from '../snapshot/snapshot-store.js';
import { createWithConmon } from './conmon.js';
import { createNetns, removeNetns } from './netns.js';
import { type ContainerPaths, containerPaths, type RuntimePaths } from './paths.js';
import { type ContainerRecord, readRecords, writeRecord } from './record.js';
import { existsInRoot, prepareRootfs, readInRoot, releaseRootfs } from './rootfs.js';
import type { Runc } from './runc.js';
import { type SeccompProfile, toOciSeccomp } from './seccomp.js';
import {
  buildRuntimeSpec,
  type ContainerSettings,
  capabilities,
  invalid,
  processArgs,
  processEnv,
} from './spec.js';
import { resolveUser } from './user.js';

export interface RuntimeDeps {
  paths: RuntimePaths;
  runc: Runc;
  /** The image side, opened only by the commands that need it (create). */
  images(): Promise<{ store: ContentStore; snapshots: SnapshotStore }>;
  now: () => Date;
  /** The host's hard RLIMIT_NOFILE. */
  nofileHard: number;
  seccompProfile?: SeccompProfile;
  /** Where a process's text of /etc/resolv.conf comes from. */
  hostResolvConf: string;
  logSizeMax: number;
  sleep?: (ms: number) => Promise<void>;
}

export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface ContainerStatus {
  id: string;
  name: string;
  image: string;
  state: ContainerState;
  pid: number | null;
  exitCode: number | null;
  /** The kernel's OOM killer ended it (conmon saw the cgroup's OOM event). */
  oomKilled: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

function notFound(name: string): BerthError {
  return new BerthError('ERR_CONTAINER_NOT_FOUND', 'not-found', `no container named "${name}"`);
}

export async function findContainer(deps: RuntimeDeps, name: string): Promise<ContainerRecord> {
  const found = (await readRecords(deps.paths.containers)).find((r) => r.name === name || r.id === name);
  if (!found) throw notFound(name);
  return found;
}

/** The command must exist in the image: absolute, relative to the workdir, or found on PATH. */
function checkCommand(rootfs: string, args: string[], env: string[], cwd: string): void {
  const cmd = args[0] as string;
  const path = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
  const candidates = cmd.includes('/')
    ? [posix.resolve(cwd, cmd)]
    : path
        .split(':')
        .filter(Boolean)
        .map((d) => posix.join(d, cmd));
  if (!candidates.some((c) => existsInRoot(rootfs, c))) {
    throw new BerthError('ERR_COMMAND_NOT_FOUND', 'invalid', `"${cmd}" is not an executable in the image`);
  }
}

export async function createContainer(
  deps: RuntimeDeps,
  imageRef: string,
  settings: ContainerSettings,
): Promise<ContainerRecord> {
  if (!NAME.test(settings.name)) {
    throw invalid(`container name "${settings.name}" must be letters, digits, "_", "." or "-" (at most 63)`);
  }
  const existing = (await readRecords(deps.paths.containers)).find((r) => r.name === settings.name);
  if (existing) {
    throw new BerthError(
      'ERR_NAME_TAKEN',
      'conflict',
      `a container named "${settings.name}" exists (${existing.id.slice(0, 12)})`,
    );
  }
  // Until the record exists (and names the snapshots), a lease keeps image prune waiting.
  const images = await deps.images();
  const lease = await images.store.createLease();
  try {
    return await createHoldingLease(deps, images, imageRef, settings);
  } finally {
    await lease.release();
  }
}

async function createHoldingLease(
  deps: RuntimeDeps,
  { store, snapshots }: { store: ContentStore; snapshots: SnapshotStore },
  imageRef: string,
  settings: ContainerSettings,
): Promise<ContainerRecord> {
  const records = await findImages(store, imageRef);
  if (records.length !== 1) {
    throw new BerthError('ERR_IMAGE_NOT_FOUND', 'not-found', `image "${imageRef}" is not in the store`, {
      hint: 'pull it first: berth image pull',
    });
  }
  const image = await describeImage(store, records[0] as (typeof records)[0]);
  const ids = chainIds(image.config.rootfs.diff_ids);
  for (const id of ids) {
    if (!(await snapshots.get(id))) {
      throw new BerthError('ERR_IMAGE_NOT_UNPACKED', 'invalid', `image "${image.name}" is not unpacked`, {
        hint: 'pull it again without --no-unpack',
      });
    }
  }
  const processArgv = processArgs(image.config, settings.command); // fails early without a command
  for (const m of settings.mounts ?? []) {
    if (m.kind === 'bind') {
      const st = await stat(m.source).catch(() => undefined);
      if (!st) throw invalid(`mount source ${m.source} does not exist`);
    }
  }

  const id = randomBytes(16).toString('hex');
  const p = containerPaths(deps.paths, id);
  const undo: Array<() => Promise<void>> = [];
  try {
    await makeDirs(p.dir);
    undo.push(() => rm(p.dir, { recursive: true, force: true }));
    const lowers = (snapshots.form === 'native' ? [ids[ids.length - 1]] : [...ids].reverse()).map((c) =>
      snapshots.fsPath(c as (typeof ids)[0]),
    );
    undo.push(() => releaseRootfs(p.rootfs));
    await prepareRootfs({
      form: snapshots.form,
      lowers,
      rootfs: p.rootfs,
      upper: p.upper,
      work: p.work,
    });

    const user = resolveUser(
      settings.user ?? image.config.config?.User ?? '',
      readInRoot(p.rootfs, '/etc/passwd') ?? '',
      readInRoot(p.rootfs, '/etc/group') ?? '',
    );
    const cwd = settings.workdir || image.config.config?.WorkingDir || '/';
    checkCommand(
      p.rootfs,
      processArgv,
      processEnv(image.config, settings.env ?? [], settings.name, user.home),
      cwd,
    );
    for (const m of settings.mounts ?? []) if (m.kind === 'volume') await makeDirs(m.source);

    await writeFile(p.hostname, `${settings.name}\n`);
    await writeFile(
      p.hosts,
      `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${settings.name}\n`,
    );
    await writeFile(p.resolvConf, deps.hostResolvConf);
    if (settings.network !== 'host') {
      undo.push(() => removeNetns(p.netns));
      await createNetns(p.netns);
    }
    const seccomp =
      deps.seccompProfile && !settings.privileged
        ? toOciSeccomp(deps.seccompProfile, process.arch, capabilities(settings))
        : undefined;
    const spec = buildRuntimeSpec(image.config, settings, user, {
      nofileHard: deps.nofileHard,
      ...(settings.network !== 'host' ? { netnsPath: p.netns } : {}),
      hostname: p.hostname,
      etcHosts: p.hosts,
      resolvConf: p.resolvConf,
      cgroupsPath: `/berth/${id}`,
      ...(seccomp ? { seccomp } : {}),
    });
    await writeFile(p.config, `${JSON.stringify(spec, null, 2)}\n`);
    await makeDirs(deps.paths.exits);
    await makeDirs(deps.paths.sockets);
    await makeDirs(p.persist);
    undo.push(() => rm(p.exitFile, { force: true }));
    undo.push(() => deps.runc.delete(id));
    await createWithConmon({
      id,
      name: settings.name,
      paths: p,
      runtime: deps.paths,
      runc: deps.runc,
      logSizeMax: deps.logSizeMax,
    });
    const record: ContainerRecord = {
      id,
      name: settings.name,
      image: image.name,
      imageId: image.id,
      chainIds: ids,
      settings,
      form: snapshots.form,
      stopSignal: image.config.config?.StopSignal ?? 'SIGTERM',
      createdAt: deps.now().toISOString(),
    };
    await writeRecord(p.record, record);
    return record;
  } catch (err) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw err;
  }
}

async function exitOf(p: ContainerPaths): Promise<{ code: number; at: string } | undefined> {
  try {
    const [text, st] = await Promise.all([readFile(p.exitFile, 'utf8'), stat(p.exitFile)]);
    return { code: Number(text.trim()), at: st.mtime.toISOString() };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

export async function containerStatus(deps: RuntimeDeps, r: ContainerRecord): Promise<ContainerStatus> {
  const p = containerPaths(deps.paths, r.id);
  const [st, exit, oom] = await Promise.all([
    deps.runc.state(r.id),
    exitOf(p),
    stat(join(p.persist, 'oom')).then(
      () => true,
      () => false,
    ),
  ]);
  let state: ContainerState = 'unknown';
  if (st?.status === 'running' || st?.status === 'paused') state = 'running';
  else if (st?.status === 'created' || st?.status === 'creating') state = 'created';
  else if (exit || st?.status === 'stopped') state = 'exited';
  return {
    id: r.id,
    name: r.name,
    image: r.image,
    state,
    pid: state === 'running' || state === 'created' ? (st?.pid ?? null) : null,
    exitCode: state === 'exited' ? (exit?.code ?? null) : null,
    oomKilled: state === 'exited' && oom,
    createdAt: r.createdAt,
    startedAt: r.startedAt ?? null,
    finishedAt: state === 'exited' ? (exit?.at ?? null) : null,
  };
}

export async function listContainers(deps: RuntimeDeps): Promise<ContainerStatus[]> {
  const records = await readRecords(deps.paths.containers);
  return Promise.all(records.map((r) => containerStatus(deps, r)));
}

export async function startContainer(deps: RuntimeDeps, name: string): Promise<ContainerStatus> {
  const r = await findContainer(deps, name);
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
  const pid = Number((await readFile(p.pidFile, 'utf8').catch(() => '')).trim()) || null;
  return {
    id: r.id,
    name: r.name,
    image: r.image,
    state: 'running',
    pid,
    exitCode: null,
    oomKilled: false,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: null,
  };
}

async function waitUntilStopped(deps: RuntimeDeps, r: ContainerRecord, ms: number): Promise<boolean> {
  const sleep = deps.sleep ?? ((t: number) => new Promise<void>((res) => setTimeout(res, t)));
  const until = Date.now() + ms;
  for (;;) {
    const s = await containerStatus(deps, r);
    if (s.state !== 'running') return true;
    if (Date.now() >= until) return false;
    await sleep(50);
  }
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

/** Everything of the container goes: runc state, rootfs mount, netns, bundle, exit file. */
export async function removeContainer(deps: RuntimeDeps, name: string, force: boolean): Promise<void> {
  const r = await findContainer(deps, name);
  const status = await containerStatus(deps, r);
  if (status.state === 'running' && !force) {
    throw new BerthError('ERR_CONTAINER_RUNNING', 'conflict', `container "${r.name}" is running`, {
      hint: 'stop it first, or use --force',
    });
  }
  if (status.state === 'running' || status.state === 'created') await stopContainer(deps, r.id, 0);
  const p = containerPaths(deps.paths, r.id);
  await deps.runc.delete(r.id);
  await releaseRootfs(p.rootfs);
  await removeNetns(p.netns);
  await rm(p.exitFile, { force: true });
  await rm(join(deps.paths.sockets, r.id), { recursive: true, force: true });
  await rm(p.dir, { recursive: true, force: true });
}
