// A pod's shared PID namespace (Kubernetes shareProcessNamespace), held by a process of its own:
// `unshare --pid --fork catatonit -P`, so that PID 1 of the namespace is catatonit, which reaps the
// zombies orphaned into it and never exits by itself, not an app container. The pod's containers
// join it through their runtime spec (`/proc/<holder>/ns/pid`).
//
// Why a plain process and not a runc container like podman's infra: nothing to mount or unpack,
// no rootfs to keep, and it is as durable as conmon (detached, its own session, outlives berth).
// What it costs is a liveness check of our own: the holder is recorded as an owner token
// (`<pid>-<start>-<boot>`, lib/process.ts), with its namespace's inode, in `<pod home>/pidns.json`;
// it is the holder only while all of them match, so a reboot or a reused PID never passes for it
// (and a process that is not ours is never killed). A holder that died takes every process of the
// namespace with it (the kernel kills them all when PID 1 goes): the pod's sandbox is broken then
// and made again, as Kubernetes does when the sandbox goes.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { BerthError, errnoCode } from '../lib/errors.js';
import { isOwnerAlive, isProcessAlive, ownerPid, ownerToken } from '../lib/process.js';
import { writeFileAtomic } from '../lib/write-atomic.js';
import { holderEnv, markHolderStarting } from './pid-holder-orphans.js';

export interface HolderRecord {
  /** The holder's owner token: `<pid>-<start>-<boot>`. */
  owner: string;
  /** The inode of its PID namespace (`/proc/<pid>/ns/pid`). */
  ns: number;
}

/** The program that holds the namespace (Debian's catatonit; `-P`: pause, reap, never exit). */
export const HOLDER_ARGV = ['unshare', '--pid', '--fork', 'catatonit', '-P'];
const FOUND_WITHIN_MS = 5000;

export function parseHolderRecord(text: string): HolderRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<HolderRecord>;
    return typeof r.owner === 'string' && typeof r.ns === 'number' ? { owner: r.owner, ns: r.ns } : undefined;
  } catch {
    return undefined;
  }
}

export function readHolderRecordSync(file: string): HolderRecord | undefined {
  try {
    return parseHolderRecord(readFileSync(file, 'utf8'));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

const nsInode = (pid: number) => {
  try {
    return statSync(`/proc/${pid}/ns/pid`).ino;
  } catch {
    return undefined;
  }
};

/** Whether the recorded holder is the process running now (same start, boot and namespace). */
export function isHolderAlive(r: HolderRecord | undefined): r is HolderRecord {
  return r !== undefined && isOwnerAlive(r.owner) && nsInode(ownerPid(r.owner)) === r.ns;
}

/** The namespace file a container joins, after checking the holder is still the recorded one. */
export function pidNamespaceOf(recordFile: string): string {
  const r = readHolderRecordSync(recordFile);
  if (!isHolderAlive(r))
    throw new BerthError(
      'ERR_PIDNS',
      'unavailable',
      `the pod's shared PID namespace is gone (its holder in ${recordFile} is not running): the pod's sandbox is set up again`,
    );
  return `/proc/${ownerPid(r.owner)}/ns/pid`;
}

/** The child `unshare --fork` made: PID 1 of the new namespace (NSpid ends in 1). */
function findForkedChild(parent: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(' ');
    for (const c of children.filter(Boolean).map(Number)) {
      const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${c}/status`, 'utf8'))?.[1]?.split(/\s+/);
      if (nspid && nspid.length > 1 && nspid[nspid.length - 1] === '1') return c;
    }
  } catch {
    // not forked yet, or gone
  }
  return undefined;
}

/**
 * Starts a holder and records it in `recordFile` (0600); returns its record. With `userns` (a
 * hostUsers: false pod's, runtime/pod-userns.ts) the namespace is made inside it, as its root, so
 * that it is the pod's (runc joins the user namespace first, then the PID namespace).
 */
export async function startPidHolder(recordFile: string, userns?: string): Promise<HolderRecord> {
  const argv = userns ? ['nsenter', `--user=${userns}`, '--', ...HOLDER_ARGV] : HOLDER_ARGV;
  const [cmd, ...args] = argv as [string, ...string[]];
  // Marked first, so a holder this berth is killed before recording is found (pid-holder-orphans.ts).
  const unmark = await markHolderStarting(recordFile);
  try {
    return await spawnHolder(cmd, args, recordFile);
  } finally {
    await unmark();
  }
}

async function spawnHolder(cmd: string, args: string[], recordFile: string): Promise<HolderRecord> {
  // Its own session, no stdio of ours: it outlives this berth (as conmon does).
  const child = spawn(cmd, args, { detached: true, stdio: 'ignore', env: holderEnv(recordFile) });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  child.unref();
  try {
    await spawned;
  } catch (err) {
    throw new BerthError('ERR_PIDNS', 'internal', `starting a PID namespace holder: ${cmd}: ${err}`, {
      cause: err,
    });
  }
  const parent = child.pid as number;
  const until = Date.now() + FOUND_WITHIN_MS;
  for (;;) {
    const pid = findForkedChild(parent);
    const ns = pid === undefined ? undefined : nsInode(pid);
    if (pid !== undefined && ns !== undefined) {
      const record = { owner: ownerToken(pid), ns };
      try {
        await writeFileAtomic(recordFile, `${JSON.stringify(record)}\n`, 0o600);
      } catch (err) {
        process.kill(pid, 'SIGKILL'); // unrecorded, it would be known to no one: ours, just started
        throw err;
      }
      return record;
    }
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > until) {
      if (child.exitCode === null) process.kill(parent, 'SIGKILL'); // ours: just spawned, not yet exited
      throw new BerthError(
        'ERR_PIDNS',
        'internal',
        `starting a PID namespace holder: ${[cmd, ...args].join(' ')} did not start within ${FOUND_WITHIN_MS} ms`,
      );
    }
    await delay(5);
  }
}

/** The pid of the holder `recordFile` names, while it is that process (else undefined). */
export function recordedHolderPid(recordFile: string): number | undefined {
  try {
    const r = readHolderRecordSync(recordFile);
    return isHolderAlive(r) ? ownerPid(r.owner) : undefined;
  } catch {
    return undefined;
  }
}

/** Kills the recorded holder (only if it is still that process) and waits until it is gone. */
export async function stopPidHolder(recordFile: string): Promise<void> {
  const r = readHolderRecordSync(recordFile);
  if (isHolderAlive(r)) {
    const pid = ownerPid(r.owner);
    process.kill(pid, 'SIGKILL'); // PID 1 of the namespace: its kernel kills what is left in it too
    const until = Date.now() + FOUND_WITHIN_MS;
    while (isProcessAlive(pid) && isOwnerAlive(r.owner) && Date.now() < until) await delay(5);
  }
  await rm(recordFile, { force: true });
}
