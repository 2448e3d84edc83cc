// A pod's first start, on disk: `<root>/pods/<name>/active.json` (`since`, ms epoch, the boot and
// time since boot it was written at, and the manifest digest it is for). Written when a container
// of the pod is created and the record is missing or of another manifest; read by observe on every
// pass (synchronously, as the sandbox's other files), `since` as the wall clock reads it now
// (lib/boot-clock.ts): within one boot a jump of the wall clock moves the start with it. It goes
// with the pod's directory.
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BootStamp, isBootStamp, readBootStamp, wallTimeNow } from '../lib/boot-clock.js';
import type { FileCache } from '../lib/file-cache.js';
import { makeDirs } from '../lib/make-dirs.js';
import { writeFileAtomic } from '../lib/write-atomic.js';
import { activeSince } from './active-deadline.js';
import type { DesiredPod } from './desired.js';
import type { ActiveRecord } from './sandbox.js';

/** Its file's name in the pod's home. */
export const ACTIVE_RECORD_FILE = 'active.json';

type StoredRecord = ActiveRecord & { stamp?: BootStamp };

function parseActiveRecord(text: string): StoredRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<StoredRecord>;
    if (typeof r.since !== 'number' || !Number.isFinite(r.since) || typeof r.manifest !== 'string')
      return undefined;
    return { since: r.since, manifest: r.manifest, ...(isBootStamp(r.stamp) ? { stamp: r.stamp } : {}) };
  } catch {
    return undefined; // half written or damaged: the clock starts with the next container
  }
}

/**
 * The pod's record, or undefined when there is none or it is unreadable. Through `cache` (the
 * daemon's pass, over every pod): a missing file costs a stat instead of a thrown ENOENT, and a
 * record is parsed once per change.
 */
export function readActiveRecordSync(
  home: string,
  cache?: FileCache,
  clock: { now: number; stamp: BootStamp } = { now: Date.now(), stamp: readBootStamp() },
): ActiveRecord | undefined {
  const r = readStoredSync(join(home, ACTIVE_RECORD_FILE), cache);
  return r && { since: wallTimeNow(r.since, r.stamp, clock.now, clock.stamp), manifest: r.manifest };
}

function readStoredSync(file: string, cache?: FileCache): StoredRecord | undefined {
  try {
    if (cache) return cache.read(file, parseActiveRecord);
    // A FIFO planted there is never opened (it would block the pass): regular files only.
    if (!lstatSync(file).isFile()) return undefined;
    return parseActiveRecord(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // none yet, or unreadable: the clock starts with the next container
  }
}

/** When the pod's activeDeadlineSeconds runs out, as its record says (none: no deadline, or not started). */
export function activeDeadlineAt(pod: DesiredPod): number | undefined {
  const since = activeSince(pod, readActiveRecordSync(pod.home));
  return since === undefined || !pod.activeDeadline ? undefined : since + pod.activeDeadline.seconds * 1000;
}

/** Record that the pod starts now, unless it already started under this manifest. */
export async function recordFirstStart(pod: DesiredPod, now: number, stamp = readBootStamp()): Promise<void> {
  if (!pod.activeDeadline) return;
  if (readStoredSync(join(pod.home, ACTIVE_RECORD_FILE))?.manifest === pod.activeDeadline.manifest) return;
  await makeDirs(pod.home, 0o700);
  const record: StoredRecord = { since: now, manifest: pod.activeDeadline.manifest, stamp };
  await writeFileAtomic(join(pod.home, ACTIVE_RECORD_FILE), `${JSON.stringify(record)}\n`, 0o600);
}
