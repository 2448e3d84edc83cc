// Metrics read from the host at scrape time: each running container's CPU and memory from its
// cgroup (v2 unified, or v1 cpuacct/memory), the content store's and snapshots' bytes, and the
// --root file system's size and free space. Reads only; a reading that fails is left out, never
// an error of the scrape. Snapshot bytes take a walk of every snapshot, so a result is reused for
// SNAPSHOT_TTL_MS (snapshots change only with pulls and prunes).
import { lstat, readdir, readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { family, type MetricFamily } from './metrics.js';
import type { ContainerUsage } from './state-metrics.js';

const SNAPSHOT_TTL_MS = 5 * 60_000;
const MAX_WALK_ENTRIES = 2_000_000;

async function readNumber(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  const n = text === undefined ? Number.NaN : Number(text.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** A container's cgroup usage under `cgroupRoot` (/sys/fs/cgroup), at `/berth/<id>` as its spec says. */
export async function readContainerUsage(cgroupRoot: string, id: string): Promise<ContainerUsage> {
  const v2 = join(cgroupRoot, 'berth', id);
  const stat = await readFile(join(v2, 'cpu.stat'), 'utf8').catch(() => undefined);
  if (stat !== undefined) {
    const usec = /^usage_usec (\d+)$/m.exec(stat)?.[1];
    return {
      ...(usec ? { cpuSeconds: Number(usec) / 1e6 } : {}),
      ...optional('memoryBytes', await readNumber(join(v2, 'memory.current'))),
    };
  }
  const ns = await readNumber(join(cgroupRoot, 'cpuacct', 'berth', id, 'cpuacct.usage'));
  return {
    ...(ns !== undefined ? { cpuSeconds: ns / 1e9 } : {}),
    ...optional(
      'memoryBytes',
      await readNumber(join(cgroupRoot, 'memory', 'berth', id, 'memory.usage_in_bytes')),
    ),
  };
}

function optional<K extends string>(key: K, v: number | undefined): Partial<Record<K, number>> {
  return v === undefined ? {} : ({ [key]: v } as Record<K, number>);
}

/** Bytes of regular files under `dir` (not following symlinks), bounded in entries. */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  let seen = 0;
  const stack = [dir];
  while (stack.length > 0 && seen < MAX_WALK_ENTRIES) {
    const d = stack.pop() as string;
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      seen++;
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) total += (await lstat(p).catch(() => undefined))?.size ?? 0;
    }
  }
  return total;
}

export interface HostMetrics {
  families(): Promise<MetricFamily[]>;
}

export function createHostMetrics(o: { root: string; now: () => number }): HostMetrics {
  let snapshots: { at: number; bytes: number } | undefined;
  return {
    async families() {
      const content = await treeBytes(join(o.root, 'content', 'blobs'));
      if (!snapshots || o.now() - snapshots.at > SNAPSHOT_TTL_MS)
        snapshots = { at: o.now(), bytes: await treeBytes(join(o.root, 'snapshots')) };
      const fs = await statfs(o.root).catch(() => undefined);
      const out = [
        family('berth_content_store_bytes', 'gauge', 'Bytes of blobs in the content store.', [
          { value: content },
        ]),
        family(
          'berth_snapshot_bytes',
          'gauge',
          'Bytes of files in unpacked snapshots (refreshed every 5 minutes).',
          [{ value: snapshots.bytes }],
        ),
      ];
      if (fs) {
        out.push(
          family(
            'berth_root_filesystem_avail_bytes',
            'gauge',
            'Bytes free for berth on the file system of --root.',
            [{ value: fs.bavail * fs.bsize }],
          ),
          family('berth_root_filesystem_size_bytes', 'gauge', 'Size of the file system of --root.', [
            { value: fs.blocks * fs.bsize },
          ]),
        );
      }
      return out;
    },
  };
}
