// Published host ports, host-wide: every berth root (each --state, on any bridge) claims its
// holders' ports in one directory, `<lock dir>/host-ports/` (/run/berth-networks on a host, so a
// reboot clears it with the rules), one file per holder (`<tag>-<key>.json`, the tag its root's:
// attachments.ts) naming its root, network, CNI id, record and ports. portmap's DNATs of every CNI
// user share CNI-HOSTPORT-DNAT, where the first jump for a port wins silently: each root's own
// check (its records) cannot see another root's pods, so without this two roots both "publish"
// a port and one of them gets nothing, as Docker, podman and the kubelet never allow.
//
// Invariants: a claim is read, checked and written under one host-wide lock (`host-ports`, taken
// inside a bridge's lock, never the other way round), so two roots never both take a port. A claim
// lives exactly as long as its holder's record (`<state>/network/<name>/attachments/<key>.json`):
// a new holder's record is written under the same lock as its claim (`commit`), and removed before
// its claim is; a claim whose record is gone (its pod removed by a berth killed before releasing,
// its --state wiped) is dead: skipped by every reader, and deleted with its port rules by the next
// claim (reapDead), so no stale claim holds a port for ever. "Gone" is judged where the claiming
// root sees its record: a claim names its mount namespace, and a root whose --state another cannot
// see (a private /tmp, `unshare -m`) is looked at through a process still in that namespace
// (lib/mount-namespaces.ts); a namespace no process is left in took the claim with it. The directory goes with its last claim;
// the lock file stays, as every lock file of /run/berth-networks does (a process may wait on it).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rmdir, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { acquireLock } from '../content/lock.js';
import { errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { type MountNamespaceViews, mountNamespaceViews, ownMountNamespace } from '../lib/mount-namespaces.js';
import { writeFileAtomic } from '../lib/write-atomic.js';
import { type Attachment, networkDirs, rootTagOf } from './attachments.js';
import { findPortConflict, type PortMapping } from './ports.js';

export interface PortClaim {
  /** The claiming root's --state, absolute. */
  state: string;
  network: string;
  key: string;
  /** The holder's CNI container id: its port rules are named from it (conflist.ts). */
  cniId: string;
  owner: Attachment['owner'];
  ports: PortMapping[];
  /** The claiming process's mount namespace (`mnt:[N]`), where `state` is (none: a claim of before). */
  mntns?: string;
}

export const hostPortsDirOf = (lockDir: string) => join(lockDir, 'host-ports');

/** The claim's file in `dir`. */
export const claimFileOf = (dir: string, c: Pick<PortClaim, 'state' | 'network' | 'key'>) =>
  join(dir, `${rootTagOf(c.state, c.network)}-${c.key}.json`);

/** The record a claim lives as long as. */
const recordOf = (c: PortClaim) => join(networkDirs(c.state, c.network).attachments, `${c.key}.json`);

/**
 * Whether the holder still has its record (its root neither removed it nor was wiped), where its
 * root sees it: the claim's record path means what it means in the claimer's mount namespace, seen
 * through a process still in it when that is not ours. A namespace no process is left in is gone,
 * and so is the claim (every conmon of a root's containers is in its namespace: none runs).
 */
export function isLiveClaim(c: PortClaim, views: MountNamespaceViews = mountNamespaceViews()): boolean {
  const record = recordOf(c);
  if (existsSync(record)) return true;
  if (c.mntns === undefined || c.mntns === ownMountNamespace()) return false;
  for (const seen of views.pathsIn(c.mntns, record)) {
    if (existsSync(seen.path)) return true;
    if (existsSync(seen.root)) return false; // seen from its own namespace: gone there too
  }
  return false;
}

function parseClaim(text: string): PortClaim | undefined {
  try {
    const c = JSON.parse(text) as PortClaim;
    const fields = [c.state, c.network, c.key, c.cniId, c.owner?.name];
    return fields.every((f) => typeof f === 'string') && Array.isArray(c.ports) ? c : undefined;
  } catch {
    return undefined;
  }
}

/** Every claim in `dir` (live or not) with its file; one unreadable or half written is none. */
export function readClaims(dir: string): Array<PortClaim & { file: string }> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  return names.flatMap((n) => {
    const file = join(dir, n);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return []; // released meanwhile
    }
    const c = parseClaim(text);
    return c ? [{ ...c, file }] : [];
  });
}

/** `pod web`, or `pod web of the berth root with --state /srv/b` when it is another root's. */
export const describeClaimOwner = (c: PortClaim, state: string) =>
  `${c.owner.kind} ${c.owner.name}${c.state === resolve(state) ? '' : ` of the berth root with --state ${c.state}`}`;

/** The live claims of roots other than the one at `state`, for the planner. */
export function otherRootsPorts(dir: string, state: string): Array<{ owner: string; ports: PortMapping[] }> {
  const views = mountNamespaceViews();
  return readClaims(dir)
    .filter((c) => c.state !== resolve(state) && isLiveClaim(c, views))
    .map((c) => ({ owner: describeClaimOwner(c, state), ports: c.ports }))
    .sort((a, b) => a.owner.localeCompare(b.owner));
}

export interface ClaimOutcome {
  /** The port another live holder has, with that holder; nothing was written then. */
  conflict?: { port: PortMapping; claim: PortClaim };
  /** The dead claims deleted (their port rules are the caller's to take away). */
  reaped: PortClaim[];
}

async function removeDirIfEmpty(dir: string): Promise<void> {
  await rmdir(dir).catch(() => undefined); // ENOTEMPTY: claims left; ENOENT: gone already
}

/**
 * Takes `claim`'s ports for its holder (or gives them all back when it has none), unless a live
 * claim of another holder has one of them; dead claims are deleted meanwhile. `commit` runs under
 * the lock after the claim is written (a new holder's record: never a claim without one to another
 * root's eyes).
 */
export async function claimPorts(
  lockDir: string,
  claim: PortClaim,
  commit?: () => Promise<void>,
): Promise<ClaimOutcome> {
  const dir = hostPortsDirOf(lockDir);
  const mine = claimFileOf(dir, claim);
  const lock = await acquireLock(lockDir, 'host-ports', { timeoutMs: 120_000 });
  try {
    const others = readClaims(dir).filter((c) => c.file !== mine);
    const views = mountNamespaceViews();
    const reaped = others.filter((c) => !isLiveClaim(c, views));
    for (const c of reaped) await unlink(c.file).catch(() => undefined);
    const live = others.filter((c) => !reaped.includes(c));
    const clash = findPortConflict(
      claim.ports,
      live.map((c) => ({ owner: c.file, ports: c.ports })),
    );
    const conflict = clash && {
      port: clash.port,
      claim: live.find((c) => c.file === clash.owner) as PortClaim,
    };
    if (!conflict) {
      if (claim.ports.length > 0) {
        await makeDirs(dir, 0o700);
        const written = { ...claim, state: resolve(claim.state), mntns: ownMountNamespace() };
        await writeFileAtomic(mine, `${JSON.stringify(written)}\n`, 0o600);
      } else await unlink(mine).catch(() => undefined);
      await commit?.();
    }
    await removeDirIfEmpty(dir);
    return { ...(conflict ? { conflict } : {}), reaped };
  } finally {
    await lock.release();
  }
}

/** Gives back the ports of the claims `which` picks (a holder's removal, `network rm`). */
export async function releaseClaims(lockDir: string, which: (c: PortClaim) => boolean): Promise<void> {
  const dir = hostPortsDirOf(lockDir);
  if (!readClaims(dir).some(which)) return; // most removals hold no port: no lock for them
  const lock = await acquireLock(lockDir, 'host-ports', { timeoutMs: 120_000 });
  try {
    for (const c of readClaims(dir).filter(which)) await unlink(c.file).catch(() => undefined);
    await removeDirIfEmpty(dir);
  } finally {
    await lock.release();
  }
}
