// Creating a container: the image's snapshots mounted as its rootfs, the user and command checked
// against the image, per-container /etc files, a netns, config.json, then conmon + runc create.
// A create that fails undoes every step it took; a lease keeps image prune away meanwhile.
import { randomBytes } from 'node:crypto';
import { closeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { isLockHeld } from '../content/lock.js';
import type { ContentStore } from '../content/types.js';
import { describeImage, findImage } from '../images/index.js';
import { BerthError } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { flushFiles, replaceFileSync, type StagedFile, stageFileAtomic } from '../lib/write-atomic.js';
import { ownHostsText, resolvConfText } from '../network/names.js';
import { chainIds } from '../snapshot/chain.js';
import { copyTree } from '../snapshot/copy-tree.js';
import type { SnapshotStore } from '../snapshot/snapshot-store.js';
import { identifyBadRecords } from './bad-record-identity.js';
import { bundleOwnerAnnotations } from './bundle-owner.js';
import { containerCgroupPath, removeContainerCgroups } from './cgroups.js';
import { createWithConmon } from './conmon.js';
import { checkContainerName } from './container-name.js';
import { containerNetwork } from './container-network.js';
import type { RuntimeDeps } from './containers.js';
import { loadHostConfinement } from './host-confinement.js';
import { openBindSource } from './host-path-open.js';
import type { IdRange } from './id-range.js';
import { checkImageProcess } from './image-process.js';
import { checkVolumeInRoot, imageVolumePaths } from './image-volume-paths.js';
import { stageImageVolumes } from './image-volumes.js';
import { loadKernelAbis } from './kernel-abis.js';
import { prepareContainerLog } from './log-rotation.js';
import { markImageUsed } from './mark-used.js';
import { checkPropagationSource } from './mount-propagation.js';
import { markCreating } from './orphans.js';
import { type ContainerPaths, containerPaths } from './paths.js';
import { pidNamespaceOf } from './pid-holder.js';
import { ensurePodCgroup } from './pod-cgroup.js';
import { podIdMap } from './pod-userns.js';
import { type ContainerRecord, readRecordsReport, recordText } from './record.js';
import { removeBundleDir } from './remove-bundle.js';
import { dirInRoot, prepareRootfs, readInRoot, releaseRootfs } from './rootfs.js';
import { checkCommand, checkResolvedMounts, checkResolvedWorkdir, mountedPaths } from './rootfs-checks.js';
import { checkNonRoot, withGroups } from './run-as.js';
import { toOciSeccomp } from './seccomp.js';
import { fallbackSeccomp } from './seccomp-fallback.js';
import { loadLocalhostProfile } from './seccomp-localhost.js';
import {
  buildRuntimeSpec,
  type ContainerMount,
  type ContainerSettings,
  capabilities,
  checkWorkingDir,
  imageWorkingDir,
  invalid,
  kernelHasRecursiveReadOnly,
  processArgs,
  processEnv,
} from './spec.js';
import { unmountStaged } from './staging-dir.js';
import { stopSignalFor } from './stop-signal.js';
import { subPathComponents } from './sub-path.js';
import { stageMountSources } from './sub-path-mounts.js';
import { terminationMessageMount } from './termination-message.js';
import { resolveUser } from './user.js';
import { withLockedFlags } from './userns-mounts.js';
import { ownByPodRoot, prepareUsernsRootfs } from './userns-rootfs.js';
import { makeBerthVolume } from './volume-ownership.js';
import { prepareWorkdir } from './workdir.js';

export async function createContainer(
  deps: RuntimeDeps,
  imageRef: string,
  settings: ContainerSettings,
  annotations?: Record<string, string>,
): Promise<ContainerRecord> {
  checkContainerName(settings.name, settings.hostname);
  const named = await deps.nameLock?.(settings.name).catch((err: unknown) => {
    if (!isLockHeld(err)) throw err; // not taken at all (a read-only root…): said as it is
    throw new BerthError(
      'ERR_NAME_BUSY',
      'unavailable',
      `container "${settings.name}": another create of that name (or of one sharing its lock) is still under way`,
      { cause: err, hint: 'try again once it has finished' },
    );
  });
  try {
    return await createNamed(deps, imageRef, settings, annotations);
  } finally {
    await named?.release();
  }
}

/** createContainer with the name's lock held: the name checked free, then the container made. */
async function createNamed(
  deps: RuntimeDeps,
  imageRef: string,
  settings: ContainerSettings,
  annotations?: Record<string, string>,
): Promise<ContainerRecord> {
  // One read of the records for both checks, through the daemon's cache: a host of N pods makes N
  // containers, and each create would otherwise parse every record twice.
  const { records, bad } = readRecordsReport(deps.paths.containers, deps.fileCache);
  const existing = records.find((r) => r.name === settings.name);
  if (existing) {
    throw new BerthError(
      'ERR_NAME_TAKEN',
      'conflict',
      `a container named "${settings.name}" exists (${existing.id.slice(0, 12)})`,
    );
  }
  const held = identifyBadRecords(deps.paths.containers, bad).find((b) => b.name === settings.name);
  if (held) {
    throw new BerthError(
      'ERR_NAME_TAKEN',
      'conflict',
      `a container named "${settings.name}" runs with an unreadable record (${held.path})`,
      { hint: `remove it with: berth container rm --force ${held.id}` },
    );
  }
  // Until the record exists (and names the snapshots), a lease keeps image prune waiting.
  const images = await deps.images();
  const lease = await images.store.createLease();
  try {
    return await createHoldingLease(deps, images, imageRef, settings, annotations);
  } finally {
    await lease.release();
  }
}

async function createHoldingLease(
  deps: RuntimeDeps,
  { store, snapshots }: { store: ContentStore; snapshots: SnapshotStore },
  imageRef: string,
  settings: ContainerSettings,
  annotations: Record<string, string> | undefined,
): Promise<ContainerRecord> {
  const image = await describeImage(store, await findImage(store, imageRef));
  const ids = chainIds(image.config.rootfs.diff_ids);
  for (const id of ids) {
    if (!(await snapshots.get(id))) {
      throw new BerthError('ERR_IMAGE_NOT_UNPACKED', 'invalid', `image "${image.name}" is not unpacked`, {
        hint: 'pull it again without --no-unpack',
      });
    }
  }
  if (settings.ports?.length && settings.network !== 'bridge')
    throw invalid('--publish needs --network bridge');
  const given = (args?: string[]) => args !== undefined && args.length > 0;
  checkImageProcess(image.config, image.name, {
    entrypoint: !given(settings.entrypoint),
    cmd: !given(settings.entrypoint) && !given(settings.command),
    workingDir: !settings.workdir,
  });
  const processArgv = processArgs(image.config, settings.command, settings.entrypoint, image.name); // fails early without one
  const stopSignal = stopSignalFor(settings.stopSignal ?? image.config.config?.StopSignal, image.name);
  const cwd = settings.workdir
    ? checkWorkingDir(settings.workdir)
    : checkWorkingDir(imageWorkingDir(image.config), `image "${image.name}": config.WorkingDir`);
  const volumePaths = imageVolumePaths(
    image.config,
    image.name,
    (settings.mounts ?? []).map((m) => m.destination),
  );
  for (const m of settings.mounts ?? []) {
    if (m.subPath !== undefined) subPathComponents(m.subPath);
    if (m.propagation) checkPropagationSource(m.source, m.propagation);
    // Checked here, before anything is made, and again on the descriptor that is bound (staged below).
    if (m.kind === 'bind') closeSync(openBindSource(m, settings.name).fd);
  }

  const id = randomBytes(16).toString('hex');
  const p = containerPaths(deps.paths, id);
  await makeDirs(deps.paths.containers);
  const unmark = await markCreating(deps.paths, id); // before the bundle exists: see orphans.ts
  const undo: Array<() => Promise<void>> = [];
  let networked: Promise<string | undefined> | undefined;
  let attached: Promise<void> | undefined;
  let flushed: Promise<void> | undefined;
  let recordFile: StagedFile | undefined;
  try {
    await makeDirs(p.dir);
    undo.push(() => removeBundleDir(p.dir));
    const hostname = settings.hostname ?? settings.name;
    // Bound over the container's /etc, read by every later start of this bundle: whole or not at
    // all, as config.json (a power cut never leaves an empty /etc/hosts beside a record: see
    // `flushed` below). Rewrites of hosts after this (bridge peers) go in place, into the inode the
    // bind mount holds.
    // (Small files of the bundle's folder: written in one turn, no hop through libuv's pool a step.)
    replaceFileSync(p.hostname, `${hostname}\n`, 0o644);
    replaceFileSync(p.hosts, ownHostsText(hostname, settings.hostAliases), 0o644);
    // Its network namespace is made while the rootfs is mounted and the spec made: `runc create`
    // joins it. Its address and published ports (plugin and iptables processes) are set up beside
    // `runc create` too: the process waits for `start`, and the hosts file the attach writes is
    // rewritten in place, so the bind mount sees it. Both settle before anything is undone, so an
    // undo never races an attach.
    ({ networked, attached } = containerNetwork(deps, settings, id, p, undo));
    networked.catch(() => undefined); // awaited below, or before the undo
    attached?.catch(() => undefined);
    const imageLowers = (snapshots.form === 'native' ? ids.slice(-1) : [...ids].reverse()).map((c) =>
      snapshots.fsPath(c as (typeof ids)[0]),
    );
    const userns = settings.userns
      ? await prepareUsernsRootfs(deps.paths, id, settings, p, imageLowers, snapshots.form, undo)
      : undefined;
    const [idRange, lowers, rootPath] = [userns?.range, userns?.lowers ?? imageLowers, userns?.rootPath];
    undo.push(() => releaseRootfs(p.rootfs));
    await prepareRootfs({
      form: snapshots.form,
      lowers,
      rootfs: p.rootfs,
      dir: p.dir,
      root: dirname(deps.paths.containers),
    });

    const resolved = resolveUser(
      settings.user ?? image.config.config?.User ?? '',
      readInRoot(p.rootfs, '/etc/passwd', image.name) ?? '',
      readInRoot(p.rootfs, '/etc/group', image.name) ?? '',
      // `-u USER:GROUP` as Docker reads it; a pod never sets a group here
      { groupGivenDropsGroups: settings.user !== undefined, image: image.name, container: settings.name },
    );
    const user = withGroups(
      settings.gid === undefined ? resolved : { ...resolved, gid: settings.gid },
      settings,
    );
    checkNonRoot(user, settings);
    checkResolvedWorkdir(p.rootfs, cwd);
    await prepareWorkdir(p.rootfs, cwd, {
      image: image.name,
      given: Boolean(settings.workdir),
      mounts: (settings.mounts ?? []).map((m) => m.destination),
      ...(idRange ? { idRange } : {}),
    });
    checkResolvedMounts(p.rootfs, image.name, [
      '/etc/hostname',
      '/etc/hosts',
      '/etc/resolv.conf',
      ...(settings.mounts ?? []).map((m) => m.destination),
      ...volumePaths,
    ]);
    for (const v of volumePaths) checkVolumeInRoot(p.rootfs, v, image.name);
    checkCommand(
      p.rootfs,
      processArgv,
      processEnv(image.config, settings.env ?? [], settings.hostname ?? settings.name, user.home),
      cwd,
      mountedPaths(settings.mounts ?? []),
    );
    for (const m of settings.mounts ?? []) if (m.kind === 'volume') await makeBerthVolume(m, undo);
    const staged: string[] = [];
    // The staging mounts are only needed while runc creates the container: undone either way.
    undo.push(() => unmountStaged(staged));
    const withImages = await stageImageVolumes(settings.mounts ?? [], { store, snapshots }, p.dir, staged);
    const staging = await stageMountSources(withImages.mounts, p.dir, staged, settings.name);
    const mounts = idRange ? await withLockedFlags(staging) : staging;
    const anonymous = await imageVolumes(volumePaths, p, idRange);

    const dns = settings.dns ?? (settings.network === 'bridge' ? {} : undefined);
    const resolv = dns && resolvConfText(deps.hostResolvConf, dns, settings.network === 'host');
    replaceFileSync(p.resolvConf, resolv ?? deps.hostResolvConf, 0o644);
    const caps = capabilities(settings, deps.capBound);
    const confinement = await loadHostConfinement();
    const unconfined = settings.privileged || settings.seccomp === 'unconfined';
    const profile = unconfined
      ? undefined
      : settings.seccompLocalhost
        ? await loadLocalhostProfile(deps.paths, settings.seccompLocalhost)
        : await deps.seccompProfile();
    const abis = unconfined ? undefined : await loadKernelAbis();
    const seccomp = unconfined
      ? undefined
      : profile
        ? toOciSeccomp(profile, process.arch, caps, abis)
        : fallbackSeccomp(process.arch, caps, abis);
    await makeDirs(p.persist);
    const termination = settings.terminationMessagePath
      ? [await terminationMessageMount(p.persist, settings.terminationMessagePath)]
      : [];
    const netnsPath = await networked;
    const spec = buildRuntimeSpec(
      image.config,
      { ...settings, mounts: [...mounts, ...anonymous, ...termination] },
      user,
      {
        nofileHard: deps.nofileHard,
        capBound: deps.capBound,
        recursiveReadOnly: kernelHasRecursiveReadOnly(release()),
        ...(netnsPath ? { netnsPath } : {}),
        ...(settings.pidnsHolder ? { pidnsPath: pidNamespaceOf(settings.pidnsHolder) } : {}),
        hostname: p.hostname,
        etcHosts: settings.hostsFile ?? p.hosts,
        resolvConf: p.resolvConf,
        cgroupsPath: containerCgroupPath(id, settings.podCgroup?.name),
        cgroupNamespace: confinement.cgroupNamespace,
        ...(confinement.apparmorProfile ? { apparmorProfile: confinement.apparmorProfile } : {}),
        ...(seccomp ? { seccomp } : {}),
        ...(idRange ? { idMap: await podIdMap(idRange, netnsPath) } : {}),
        ...(rootPath ? { rootPath } : {}),
      },
    );
    const owned = { ...spec, annotations: bundleOwnerAnnotations(annotations) }; // read back when its record is not
    // Whole or not at all (its env holds secrets: 0600): a power cut leaves no empty or cut-short
    // config.json beside a record that outlives it, for the owner read back from it (bundle-owner.ts).
    replaceFileSync(p.config, `${JSON.stringify(owned, null, 2)}\n`, 0o600);
    await makeDirs(deps.paths.exits);
    await makeDirs(deps.paths.sockets);
    if (settings.podCgroup) {
      // Undone last: its own cgroup and, when it was the pod's only one, the pod's (cgroups.ts).
      undo.push(() => removeContainerCgroups(id));
      await ensurePodCgroup(settings.podCgroup);
    }
    undo.push(() => rm(p.exitFile, { force: true }));
    // conmon's link to the bundle for its attach socket: removed by conmon as it ends, but not when
    // it leaves because `runc create` failed.
    undo.push(() => rm(join(deps.paths.sockets, id), { force: true }));
    undo.push(() => deps.runc.delete(id));
    await prepareContainerLog(p.log, (await deps.logRotation?.())?.maxFiles ?? 0);
    // The bundle's files are renamed into place unflushed (runc only needs to read them) and flushed
    // together while conmon and `runc create` run; the record, written after, flushes their folder:
    // a record on disk after a power cut has them whole. Without a record the bundle is an orphan.
    flushed = flushFiles([p.hostname, p.hosts, p.resolvConf, p.config]);
    flushed.catch(() => undefined); // awaited below, or before the undo
    // The record is written aside and flushed meanwhile too; put in place once conmon has answered.
    const record: ContainerRecord = {
      id,
      name: settings.name,
      image: image.name,
      imageId: image.id,
      chainIds: [...new Set([...ids, ...withImages.chainIds])],
      settings,
      form: snapshots.form,
      stopSignal,
      createdAt: deps.now().toISOString(),
      ...(annotations ? { annotations } : {}),
    };
    recordFile = await stageFileAtomic(p.record, recordText(record), 0o600);
    const used = markImageUsed(store, image.name, deps.now()); // never fails
    await createWithConmon({
      id,
      name: settings.name,
      paths: p,
      runtime: deps.paths,
      runc: deps.runc,
      logSizeMax: await deps.logSizeMax(),
      timeoutMs: await deps.createTimeoutMs?.(),
      ...(settings.tty ? { terminal: true } : {}),
    });
    // Set again before its process runs: a removal may have found the pod cgroup idle meanwhile, and
    // runc made it again without the pod's limits (pod-cgroup.ts).
    if (settings.podCgroup) await ensurePodCgroup(settings.podCgroup);
    await attached;
    await unmountStaged(staged.splice(0)); // the container's mount namespace has its own binds now
    await flushed;
    await recordFile.commit();
    await used;
    return record;
  } catch (err) {
    await networked?.catch(() => undefined);
    await attached?.catch(() => undefined);
    await flushed?.catch(() => undefined);
    await recordFile?.abort();
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw err;
  } finally {
    await unmark();
  }
}

/**
 * The image's Volumes that no mount of the container covers get a directory of their own in the
 * bundle (removed with the container), seeded with what the image has there, as Docker does.
 */
async function imageVolumes(
  paths: string[],
  p: ContainerPaths,
  idRange?: IdRange,
): Promise<ContainerMount[]> {
  const out: ContainerMount[] = [];
  for (const [i, destination] of paths.entries()) {
    const source = join(p.dir, 'volumes', String(i));
    await makeDirs(source);
    const inImage = dirInRoot(p.rootfs, destination);
    if (inImage) await copyTree(inImage, source);
    else if (idRange) await ownByPodRoot([source], idRange); // a shifted image's copy is owned already
    out.push({ kind: 'bind', source, destination, readOnly: false });
  }
  return out;
}
