// PID namespace holders (pid-holder.ts) a berth started but never recorded: killed between the
// spawn and writing `pidns.json`, it left a holder nobody knows. The owner-token rule of orphans.ts:
// before it spawns, a starter leaves `pidns.json.starting.<its owner token>` (the name is the token,
// so there is nothing to read half written) and starts the holder with that token and the record's
// path in its environment; it removes the file once the record is written (or the holder killed).
// A marker whose starter is dead names what it may have left: every process carrying exactly that
// token and record path, except the holder the record names, is killed, then the marker goes.
// While the starter lives nothing of its is touched; a scan of /proc runs only for a dead marker.
import { readdirSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isOwnerAlive, OWNER_PATTERN, ownerToken } from '../lib/process.js';

const STARTER_ENV = 'BERTH_PIDNS_STARTER';
const RECORD_ENV = 'BERTH_PIDNS_RECORD';
const MARKER = new RegExp(`^(.+)\\.starting\\.(${OWNER_PATTERN})$`);

/** The environment a holder is started with: who started it, for which record. */
export function holderEnv(recordFile: string, starter = ownerToken()): Record<string, string> {
  return { ...process.env, [STARTER_ENV]: starter, [RECORD_ENV]: recordFile } as Record<string, string>;
}

/** Marks `recordFile`'s holder as being started by this process; the returned function unmarks it. */
export async function markHolderStarting(recordFile: string): Promise<() => Promise<void>> {
  const marker = `${recordFile}.starting.${ownerToken()}`;
  await writeFile(marker, '', { mode: 0o600 });
  return () => rm(marker, { force: true });
}

/** The pids whose environment names this starter and record (one read of /proc). */
function processesStartedBy(starter: string, recordFile: string): number[] {
  const want = [`${STARTER_ENV}=${starter}`, `${RECORD_ENV}=${recordFile}`];
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      if (want.every((w) => env.includes(w))) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function parentOf(pid: number): number | undefined {
  try {
    return Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  } catch {
    return undefined;
  }
}

/**
 * Kills the unrecorded holders of starters that died, in every pod home under `podsDir`, and
 * removes their markers. `recordedPid` says which pid a record names as its live holder (kept).
 * Returns the pids killed.
 */
export async function sweepOrphanHolders(
  podsDir: string,
  recordedPid: (recordFile: string) => number | undefined,
  isAlive = isOwnerAlive,
): Promise<number[]> {
  const killed: number[] = [];
  let pods: string[];
  try {
    pods = readdirSync(podsDir);
  } catch {
    return killed;
  }
  for (const pod of pods) {
    let names: string[];
    try {
      names = readdirSync(join(podsDir, pod));
    } catch {
      continue; // not a directory
    }
    for (const name of names) {
      const m = MARKER.exec(name);
      if (!m || isAlive(m[2] as string)) continue;
      const recordFile = join(podsDir, pod, m[1] as string);
      if (basename(recordFile) !== 'pidns.json' || dirname(recordFile) !== join(podsDir, pod)) continue;
      const keep = recordedPid(recordFile);
      const kept = keep === undefined ? [] : [keep, parentOf(keep)]; // the recorded holder and its unshare
      for (const pid of processesStartedBy(m[2] as string, recordFile)) {
        if (kept.includes(pid) || pid === process.pid) continue;
        try {
          process.kill(pid, 'SIGKILL'); // carries the dead starter's token and this record: its holder
          killed.push(pid);
        } catch {
          // gone meanwhile
        }
      }
      await rm(join(podsDir, pod, name), { force: true });
    }
  }
  return killed;
}
