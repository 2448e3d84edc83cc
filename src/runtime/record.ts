// A container's record, `containers/<id>/container.json`: what it was created from and with,
// and when it was started. The live state (running, pid, exit code) is never stored here: it is
// read from runc and conmon's exit file each time, so it cannot go stale.
// Records are written atomically and flushed (write-atomic.ts). One that is still unreadable (a
// disk fault, a hand edit, a file from before records were flushed) is skipped and reported, never
// thrown: one bad record must not stop every pass, `ps` and `prune` on the host.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import type { FileCache } from '../lib/file-cache.js';
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

/** A record that could not be used: where it is and why. */
export interface BadRecord {
  id: string;
  path: string;
  reason: string;
}

export interface RecordsRead {
  records: ContainerRecord[];
  bad: BadRecord[];
  /** The ids `skip` left unread (a daemon's pass reuses what it last saw of them). */
  skipped?: string[];
}

export async function writeRecord(file: string, record: ContainerRecord): Promise<void> {
  await writeFileAtomic(file, recordText(record), 0o600);
}

/** A record's file text, as writeRecord writes it. */
export function recordText(record: ContainerRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** Why `text` is not the record of container `id`, or undefined when it is one. */
export function recordProblem(id: string, text: string): string | undefined {
  const parsed = parseRecord(id, text);
  return 'problem' in parsed ? parsed.problem : undefined;
}

/** The record `text` holds for container `id`, or why it holds none (parsed once: every pass reads them all). */
function parseRecord(id: string, text: string): { record: ContainerRecord } | { problem: string } {
  if (text.length === 0) return { problem: 'empty file' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { problem: `not JSON (${(err as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { problem: 'not a JSON object' };
  const r = value as Partial<ContainerRecord>;
  if (r.id !== id) return { problem: `its id is ${JSON.stringify(r.id)}, not the directory's` };
  if (typeof r.name !== 'string' || typeof r.createdAt !== 'string')
    return { problem: 'no name or createdAt' };
  if (typeof r.settings !== 'object' || r.settings === null) return { problem: 'no settings' };
  if (r.chainIds !== undefined && !Array.isArray(r.chainIds)) return { problem: 'chainIds is not a list' };
  return { record: r as ContainerRecord };
}

/**
 * Every container's record, and those that could not be read (synchronous: every pass does this).
 * With `cache` (a long-lived process's), a record unchanged since it was last read is not parsed again.
 */
export function readRecordsReport(
  containersDir: string,
  cache?: FileCache,
  skip?: (id: string) => boolean,
): RecordsRead {
  let names: string[];
  try {
    names = readdirSync(containersDir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { records: [], bad: [] };
    throw err;
  }
  const records: ContainerRecord[] = [];
  const bad: BadRecord[] = [];
  const skipped: string[] = [];
  for (const id of names) {
    if (!/^[a-f0-9]{32}$/.test(id)) continue;
    if (skip?.(id)) {
      skipped.push(id);
      continue;
    }
    const path = join(containersDir, id, 'container.json');
    let parsed: ReturnType<typeof parseRecord> | undefined;
    try {
      parsed = cache
        ? cache.read(path, (text) => parseRecord(id, text))
        : parseRecord(id, readFileSync(path, 'utf8'));
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') continue; // a container being created or removed
      bad.push({ id, path, reason: code ?? String(err) });
      continue;
    }
    if (parsed === undefined) continue; // gone (cache.read's stat): being created or removed
    if ('problem' in parsed) bad.push({ id, path, reason: parsed.problem });
    else records.push(parsed.record);
  }
  records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return skip ? { records, bad, skipped } : { records, bad };
}

/** Every container's usable record (bad ones skipped: see readRecordsReport). */
export async function readRecords(containersDir: string): Promise<ContainerRecord[]> {
  return readRecordsReport(containersDir).records;
}

/** One line per bad record, for the output of the commands that list containers. */
export function formatBadRecords(bad: readonly BadRecord[]): string {
  return bad
    .map(
      (b) =>
        `warning: skipped container ${b.id}: ${b.path}: ${b.reason} (berth container rm --force ${b.id} removes it)\n`,
    )
    .join('');
}

/**
 * Every snapshot some container's rootfs stands on (for image prune). While a record is bad, the
 * snapshots its container uses are unknown, so every snapshot present is kept (so too with `keepAll`:
 * a bundle left by a killed berth that could not be removed yet): prune goes on (blobs
 * are collected) but never pulls a layer from under a container it cannot read.
 */
export async function snapshotsInUse(root: string, o: { keepAll?: boolean } = {}): Promise<Digest[]> {
  const { records, bad } = readRecordsReport(join(root, 'containers'));
  const used = records.flatMap((r) => r.chainIds ?? []);
  if (bad.length === 0 && !o.keepAll) return used;
  const present = [join(root, 'snapshots'), join(root, 'snapshots', 'native')].flatMap((dir) => {
    try {
      return readdirSync(dir).filter((n) => /^[a-f0-9]{64}$/.test(n));
    } catch {
      return [];
    }
  });
  return [...used, ...present.map((hex) => `sha256:${hex}` as Digest)];
}
