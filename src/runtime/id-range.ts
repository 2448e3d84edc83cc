// A `hostUsers: false` pod's host IDs: a range of ID_RANGE_SIZE uids (and the same gids) of its own,
// taken from the host config's pool (`userNamespaces.firstId`, `.ranges` slots), recorded in
// `<root>/pods/<name>/userns.json` so it stays the same across restarts and reboots, and freed with
// the pod's directory. Allocation runs inside a reconcile pass (under the reconcile lock, so no
// other process allocates meanwhile) and one at a time within it, so two pods never pick the same
// slot. `pickRange` is pure.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../lib/errors.js';
import { writeFileAtomic } from '../lib/write-atomic.js';

/** IDs per pod: 0–65535 inside, as Kubernetes gives every pod. */
export const ID_RANGE_SIZE = 65536;

/** Where the pool starts by default: above useradd's /etc/subuid ranges (SUB_UID_MAX 600100000). */
export const DEFAULT_FIRST_ID = 2 ** 30;
/** Slots by default: 2^30 … 2^31 - 1 (uid_t is 32 bits; (uid_t)-1 is never reached). */
export const DEFAULT_RANGES = 16384;

export interface IdPool {
  firstId: number;
  ranges: number;
}

export interface IdRange {
  /** The host uid (and gid) of the pod's root. */
  base: number;
  size: number;
}

export const USERNS_FILE = 'userns.json';

/** The pool from the host config (`userNamespaces`), defaults filled in; it must fit in 32 bits. */
export function idPoolOf(raw: Partial<IdPool> | undefined): IdPool {
  const pool = { firstId: raw?.firstId ?? DEFAULT_FIRST_ID, ranges: raw?.ranges ?? DEFAULT_RANGES };
  if (pool.firstId + pool.ranges * ID_RANGE_SIZE > 2 ** 32 - 1)
    throw new BerthError(
      'ERR_CONFIG_INVALID',
      'invalid',
      `userNamespaces: firstId ${pool.firstId} + ranges ${pool.ranges} × ${ID_RANGE_SIZE} passes the last host ID (4294967294)`,
    );
  return pool;
}

/** The lowest free slot's base, or undefined when every slot is taken. */
export function pickRange(taken: Iterable<number>, pool: IdPool): number | undefined {
  const used = new Set(taken);
  for (let i = 0; i < pool.ranges; i++) {
    const base = pool.firstId + i * ID_RANGE_SIZE;
    if (!used.has(base)) return base;
  }
  return undefined;
}

/** A pod's recorded range, or undefined (none, or not one berth wrote). */
export function readIdRange(home: string): IdRange | undefined {
  let text: string;
  try {
    text = readFileSync(join(home, USERNS_FILE), 'utf8');
  } catch (err) {
    if (['ENOENT', 'ENOTDIR'].includes(errnoCode(err) ?? '')) return undefined;
    throw err;
  }
  try {
    const r = JSON.parse(text) as Partial<IdRange>;
    if (
      Number.isSafeInteger(r.base) &&
      r.size === ID_RANGE_SIZE &&
      (r.base as number) > 0 &&
      (r.base as number) + ID_RANGE_SIZE <= 2 ** 32 - 1
    )
      return { base: r.base as number, size: ID_RANGE_SIZE };
  } catch {
    // unreadable: as if absent, the pod gets a range again
  }
  return undefined;
}

/** Allocations one at a time in this process (a pass sets pods up in parallel; passes are locked). */
let queue: Promise<unknown> = Promise.resolve();

/** The pod's range: the recorded one, else a free slot of the pool (recorded before it is used). */
export function allocateIdRange(pods: string, name: string, pool: IdPool): Promise<IdRange> {
  const turn = queue.then(() => allocateNow(pods, name, pool));
  queue = turn.catch(() => undefined);
  return turn;
}

async function allocateNow(pods: string, name: string, pool: IdPool): Promise<IdRange> {
  const home = join(pods, name);
  const mine = readIdRange(home);
  if (mine) return mine;
  const taken: number[] = [];
  let others: string[] = [];
  try {
    others = readdirSync(pods);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  for (const other of others) {
    const r = other === name ? undefined : readIdRange(join(pods, other));
    if (r) taken.push(r.base);
  }
  const base = pickRange(taken, pool);
  if (base === undefined)
    throw new BerthError(
      'ERR_USERNS_UNAVAILABLE',
      'limit',
      `pod ${name}: spec.hostUsers: false needs a range of ${ID_RANGE_SIZE} host IDs and all ${pool.ranges} of the host's (userNamespaces in the host config) are taken`,
      { hint: 'remove a hostUsers: false pod, or raise userNamespaces.ranges' },
    );
  const range = { base, size: ID_RANGE_SIZE };
  await writeFileAtomic(join(home, USERNS_FILE), `${JSON.stringify(range)}\n`, 0o600);
  return range;
}
