// Containers nobody owns any more, and removing a container by its id alone.
//
// A bundle (`containers/<id>/`) without a record is either being created or being removed, or it
// was left by a berth that was killed while doing so. To tell them apart without a window:
// - a create writes `containers/<id>.creating` (its owner token: pid, start time, boot) BEFORE the
//   bundle directory exists, and deletes it only after the record is written (or everything undone);
//   the marker appears under its name only once whole (written aside, then linked): read while
//   half written, an empty token would name a dead owner, and the create's bundle would be reaped
//   under it (its conmon killed mid-handshake);
// - a removal deletes the record only after everything else of the container is gone (runc's
//   container, conmon, cgroups, mounts, netns), then the bundle.
// So a bundle with no record whose creator is not alive is an orphan: `reapOrphans` removes
// everything named by its id. A marker whose owner is dead goes too, and so does a hostUsers: false
// mount point left without its bundle (orphan-userns.ts). A reconcile pass that looks at every pod
// (not a scoped one) and image prune reap before they look, so an orphan's rootfs never pins or
// outlives its snapshots.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { link, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isOwnerAlive, OWNER_PATTERN, ownerToken } from '../lib/process.js';
import type { NetworkAdapter } from '../network/adapter.js';
import { removeContainerCgroups } from './cgroups.js';
import { conmonOf } from './conmon-process.js';
import { removeNetns } from './netns.js';
import { reapOrphanUsernsDirs } from './orphan-userns.js';
import { containerPaths, type RuntimePaths } from './paths.js';
import { removeBundleDir } from './remove-bundle.js';
import { releaseRootfs } from './rootfs.js';
import type { Runc } from './runc.js';
import { releaseSubPathMounts } from './staging-dir.js';
import { removeUsernsDir } from './userns-rootfs.js';

const ID = /^[a-f0-9]{32}$/;
const MARKER = /^([a-f0-9]{32})\.creating$/;
/** A marker being written, named by its owner (so one a killed create left is known to be dead). */
const MARKER_DRAFT = new RegExp(`^[a-f0-9]{32}\\.creating\\.(${OWNER_PATTERN})\\.tmp$`);

export interface RemoveDeps {
  paths: RuntimePaths;
  runc: Runc;
  /** The bridge network, for a container made with `--network bridge` (its address goes first). */
  network?(): Promise<NetworkAdapter>;
}

const markerOf = (paths: RuntimePaths, id: string) => join(paths.containers, `${id}.creating`);

/** Mark container `id` as being created by this process; the returned function unmarks it. */
export async function markCreating(paths: RuntimePaths, id: string): Promise<() => Promise<void>> {
  const marker = markerOf(paths, id);
  const owner = ownerToken();
  const draft = `${marker}.${owner}.tmp`;
  await writeFile(draft, owner, { mode: 0o600, flag: 'wx' });
  try {
    await link(draft, marker); // whole, and never over another's (EEXIST)
  } finally {
    await rm(draft, { force: true });
  }
  return () => rm(marker, { force: true });
}

/**
 * Everything named by container `id`: its conmon (killed first, so it writes no exit file after
 * ours is gone), runc's container, its cgroups in every hierarchy, its rootfs and subPath mounts
 * (never `rm -r` through a mount), its own netns, exit file, attach sockets, then its record, then
 * its bundle. Idempotent: a removal killed anywhere is finished by the next one.
 */
export async function removeById(deps: RemoveDeps, id: string): Promise<void> {
  const p = containerPaths(deps.paths, id);
  const conmon = conmonOf(p.conmonPidFile, id); // checked by its argv, never by pid alone
  if (conmon) process.kill(conmon.pid, 'SIGKILL');
  // Its address and port rules go while runc and the mounts are undone (independent work, each
  // mostly waiting on other processes); its netns once its DEL is done (beside the network's own
  // bookkeeping), and in any case before its record.
  let netnsGone: Promise<void> | undefined;
  const removeOwnNetns = () => {
    netnsGone ??= removeNetns(p.netns); // `netns/<id>`: its own, if it had one (a pod's is `pod-<name>`)
    return netnsGone;
  };
  const detached = deps.network
    ? deps.network().then((net) => net.detach(`container-${id}`, removeOwnNetns))
    : Promise.resolve();
  try {
    // runc knows a container only by its state directory: without one (gone with /run at a reboot,
    // or never written) `runc delete` could only say it does not exist, at a process per container.
    if (existsSync(join(deps.runc.root, id))) await deps.runc.delete(id);
    await removeContainerCgroups(id); // what runc left when it had lost its state
    await releaseRootfs(p.rootfs);
    await removeUsernsDir(deps.paths, id); // a hostUsers: false container's mount point
    await releaseSubPathMounts(p.dir);
  } finally {
    await detached.catch(() => undefined); // its own failure is thrown below, after this one
  }
  await detached;
  await removeOwnNetns();
  await rm(p.exitFile, { force: true });
  await rm(join(deps.paths.sockets, id), { recursive: true, force: true });
  await rm(p.record, { force: true }); // from here on the bundle is an orphan: the next reap finishes it
  await removeBundleDir(p.dir); // refuses while anything is still mounted under it
}

export interface Reaped {
  reaped: string[];
  /** Orphans that could not be removed this time (a process stuck in D state, an immutable file): tried again next time. */
  failed: Array<{ id: string; error: unknown }>;
}

/**
 * Remove every orphaned bundle and stale marker. Never throws for one orphan: what cannot be
 * removed now is reported and tried again by the next caller, and holds nothing else back.
 */
export async function reapOrphans(deps: RemoveDeps, isAlive = isOwnerAlive): Promise<Reaped> {
  let names: string[];
  try {
    names = readdirSync(deps.paths.containers);
  } catch {
    return { reaped: [], failed: [] };
  }
  const creating = new Set<string>();
  for (const n of names) {
    const m = MARKER.exec(n);
    if (!m) continue;
    let owner = '';
    try {
      owner = readFileSync(join(deps.paths.containers, n), 'utf8').trim();
    } catch {
      continue; // removed meanwhile: the create finished
    }
    if (isAlive(owner)) creating.add(m[1] as string);
  }
  const out: Reaped = { reaped: [], failed: [] };
  for (const id of names) {
    if (!ID.test(id) || creating.has(id) || hasRecord(deps.paths, id)) continue;
    try {
      await removeById(deps, id);
      out.reaped.push(id);
    } catch (error) {
      out.failed.push({ id, error });
    }
  }
  const userns = await reapOrphanUsernsDirs(deps.paths, creating); // hostUsers: false mount points
  out.reaped.push(...userns.reaped);
  out.failed.push(...userns.failed);
  for (const n of names) {
    const m = MARKER.exec(n);
    if (m && !creating.has(m[1] as string)) await rm(join(deps.paths.containers, n), { force: true });
    const draft = MARKER_DRAFT.exec(n);
    if (draft && !isAlive(draft[1] as string)) await rm(join(deps.paths.containers, n), { force: true });
  }
  return out;
}

function hasRecord(paths: RuntimePaths, id: string): boolean {
  try {
    // The record's path alone (containerPaths builds 15): every pass asks this of every container.
    return statSync(join(paths.containers, id, 'container.json'), { throwIfNoEntry: false }) !== undefined;
  } catch (err) {
    // An unreadable record is a bad record (record.ts reports it), not an orphan.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}
