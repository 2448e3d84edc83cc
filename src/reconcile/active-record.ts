// A pod's first start, on disk: `<root>/pods/<name>/active.json` (`since`, ms epoch, and the
// manifest digest it is for). Written when a container of the pod is created and the record is
// missing or of another manifest; read by observe on every pass (synchronously, as the sandbox's
// other files). It goes with the pod's directory.
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FileCache } from '../lib/file-cache.js';
import { makeDirs } from '../lib/make-dirs.js';
import { writeFileAtomic } from '../lib/write-atomic.js';
import type { DesiredPod } from './desired.js';
import type { ActiveRecord } from './sandbox.js';

/** Its file's name in the pod's home. */
export const ACTIVE_RECORD_FILE = 'active.json';

function parseActiveRecord(text: string): ActiveRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<ActiveRecord>;
    return typeof r.since === 'number' && Number.isFinite(r.since) && typeof r.manifest === 'string'
      ? { since: r.since, manifest: r.manifest }
      : undefined;
  } catch {
    return undefined; // half written or damaged: the clock starts with the next container
  }
}

/**
 * The pod's record, or undefined when there is none or it is unreadable. Through `cache` (the
 * daemon's pass, over every pod): a missing file costs a stat instead of a thrown ENOENT, and a
 * record is parsed once per change.
 */
export function readActiveRecordSync(home: string, cache?: FileCache): ActiveRecord | undefined {
  const file = join(home, ACTIVE_RECORD_FILE);
  try {
    if (cache) return cache.read(file, parseActiveRecord);
    // A FIFO planted there is never opened (it would block the pass): regular files only.
    if (!lstatSync(file).isFile()) return undefined;
    return parseActiveRecord(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // none yet, or unreadable: the clock starts with the next container
  }
}

/** Record that the pod starts now, unless it already started under this manifest. */
export async function recordFirstStart(pod: DesiredPod, now: number): Promise<void> {
  if (!pod.activeDeadline) return;
  if (readActiveRecordSync(pod.home)?.manifest === pod.activeDeadline.manifest) return;
  await makeDirs(pod.home, 0o700);
  const record: ActiveRecord = { since: now, manifest: pod.activeDeadline.manifest };
  await writeFileAtomic(join(pod.home, ACTIVE_RECORD_FILE), `${JSON.stringify(record)}\n`, 0o600);
}
