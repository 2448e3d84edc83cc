// A container's record, `containers/<id>/container.json`: what it was created from and with,
// and when it was started. The live state (running, pid, exit code) is never stored here: it is
// read from runc and conmon's exit file each time, so it cannot go stale.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import { writeFileAtomic } from '../lib/write-atomic.js';
import type { Digest } from '../oci/digest.js';
import type { ContainerSettings } from './spec.js';

export interface ContainerRecord {
  id: string;
  name: string;
  image: string;
  imageId: Digest;
  /** The snapshots its rootfs stands on: kept by image prune while the container exists. */
  chainIds: Digest[];
  settings: ContainerSettings;
  form: 'overlay' | 'native';
  stopSignal: string;
  createdAt: string;
  startedAt?: string;
  /** Who made it and from what (the controller's ownership, spec hash, restarts: `berth.dev/…`). */
  annotations?: Record<string, string>;
}

export async function writeRecord(file: string, record: ContainerRecord): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
}

/** Every container's record (synchronous reads: the daemon does this on every pass). */
export async function readRecords(containersDir: string): Promise<ContainerRecord[]> {
  let names: string[];
  try {
    names = readdirSync(containersDir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const out: ContainerRecord[] = [];
  for (const n of names) {
    if (!/^[a-f0-9]{32}$/.test(n)) continue;
    try {
      out.push(JSON.parse(readFileSync(join(containersDir, n, 'container.json'), 'utf8')) as ContainerRecord);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err; // a container being created or removed
    }
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** Every snapshot some container's rootfs stands on (for image prune). */
export async function snapshotsInUse(root: string): Promise<Digest[]> {
  return (await readRecords(join(root, 'containers'))).flatMap((r) => r.chainIds ?? []);
}
