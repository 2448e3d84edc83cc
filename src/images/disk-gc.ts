// Disk-pressure image GC (see gc-plan.ts for what goes): measures the store's file system, names the
// images to drop, drops their names and runs the same prune as `berth image prune` (blobs and
// snapshots no image or container references), then measures again; a few rounds at most, since
// what an image frees is an estimate (content shared with other images stays).
import { statfs } from 'node:fs/promises';
import { distinctEntries } from '../content/image-names.js';
import type { ContentStore } from '../content/types.js';
import type { Digest } from '../oci/digest.js';
import { chainIds } from '../snapshot/chain.js';
import type { SnapshotStore } from '../snapshot/snapshot-store.js';
import { describeImage } from './describe.js';
import { type GcImage, planImageGc, usedPercent } from './gc-plan.js';
import { pruneImages } from './prune.js';

export interface DiskUsage {
  totalBytes: number;
  usedBytes: number;
}

export interface ImageGcDeps {
  store: ContentStore;
  /** The host's snapshot store first (sizes are read from it), then every other form. */
  snapshotStores: SnapshotStore[];
  /** Snapshots containers stand on (kept by the prune). */
  snapshotsInUse: () => Promise<readonly string[]>;
  /** Names and ids of images containers were created from. */
  imagesInUse: () => Promise<ReadonlySet<string>>;
  diskUsage?: (path: string) => Promise<DiskUsage>;
  now?: () => Date;
}

export interface ImageGcOptions {
  /** Names the manifests want, and each Image's `keep`: read only when there is work to do. */
  wants: () => Promise<{ wanted: ReadonlySet<string>; keep: ReadonlyMap<string, number> }>;
  highPercent: number;
  lowPercent: number;
  /**
   * Trim previous digests even below the high threshold (after a pass that pulled: a tag may have
   * moved). Otherwise a GC below the threshold costs one statfs and nothing else.
   */
  trim: boolean;
}

export interface ImageGcResult {
  before: DiskUsage;
  after: DiskUsage;
  /** Previous digests beyond their Image's `keep` whose names were dropped. */
  trimmed: string[];
  /** Unused images removed because the file system was above the high threshold, in order. */
  removed: string[];
  /** Freed by the prune that follows a removal under pressure (a trim alone prunes nothing). */
  freedBytes: number;
}

/** What `df` shows: used of what is usable (blocks reserved for root are not counted). */
export async function storeDiskUsage(path: string): Promise<DiskUsage> {
  const s = await statfs(path);
  const used = (s.blocks - s.bfree) * s.bsize;
  return { totalBytes: used + s.bavail * s.bsize, usedBytes: used };
}

/**
 * Each image with the bytes of its blobs and snapshots that no other image shares. An entry
 * index.json holds twice (another tool may write it so) is one image: as two, each shared all its
 * content with the other, counted as freeing nothing, and GC went on to remove the next image too.
 */
async function gcImages(store: ContentStore, snapshots: SnapshotStore): Promise<GcImage[]> {
  const images: Array<{ image: GcImage; parts: Array<{ key: string; bytes: number }> }> = [];
  const owners = new Map<string, number>();
  for (const r of distinctEntries(await store.listImages())) {
    const d = await describeImage(store, r);
    const own: Array<{ key: string; bytes: number }> = [
      { key: d.digest, bytes: r.target.size },
      { key: d.manifest.config.digest, bytes: d.manifest.config.size },
      ...d.manifest.layers.map((l) => ({ key: l.digest, bytes: l.size })),
    ];
    for (const id of chainIds(d.config.rootfs.diff_ids)) {
      own.push({ key: `snapshot:${id}`, bytes: (await snapshots.get(id as Digest))?.size ?? 0 });
    }
    const parts = [...new Map(own.map((p) => [p.key, p])).values()];
    for (const p of parts) owners.set(p.key, (owners.get(p.key) ?? 0) + 1);
    const image: GcImage = { name: r.name, id: d.id, pulledAt: r.pulledAt, bytes: 0 };
    if (r.lastUsedAt) image.lastUsedAt = r.lastUsedAt;
    if (r.previousOf) image.previousOf = r.previousOf;
    if (r.replacedAt) image.replacedAt = r.replacedAt;
    images.push({ image, parts });
  }
  return images.map(({ image, parts }) => ({
    ...image,
    bytes: parts.filter((p) => owners.get(p.key) === 1).reduce((n, p) => n + p.bytes, 0),
  }));
}

const MAX_ROUNDS = 3;

/** Best effort, as a container start's (runtime/mark-used.ts): GC goes on without it. */
async function markImageUsedAt(store: ContentStore, name: string, at: Date): Promise<void> {
  await store.markUsed(name, at, 0).catch(() => undefined);
}

/**
 * One GC: trim previous digests beyond `keep`, and, over the high threshold, remove unused images
 * until below the low one. Returns undefined when there was nothing to do.
 */
export async function collectImages(
  deps: ImageGcDeps,
  o: ImageGcOptions,
): Promise<ImageGcResult | undefined> {
  const measure = () => (deps.diskUsage ?? storeDiskUsage)(deps.store.root);
  const before = await measure();
  if (
    usedPercent(before) <= o.highPercent &&
    !(o.trim && (await deps.store.listImages()).some((r) => r.previousOf !== undefined))
  ) {
    return undefined; // the common case
  }
  const { wanted, keep } = await o.wants();
  let after = before;
  const trimmed: string[] = [];
  const removed: string[] = [];
  let freedBytes = 0;
  const now = deps.now?.() ?? new Date();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const images = await gcImages(deps.store, deps.snapshotStores[0] as SnapshotStore);
    const plan = planImageGc({
      images,
      wanted,
      inUse: await deps.imagesInUse(),
      keep,
      usage: after,
      highPercent: round === 0 ? o.highPercent : o.lowPercent, // a started GC goes on down to low
      lowPercent: o.lowPercent,
      now: now.getTime(),
    });
    // A LAST USED (else PULLED) ahead of the clock is recorded as now: the image ages from here on.
    for (const name of plan.ahead) await markImageUsedAt(deps.store, name, now);
    for (const name of plan.trim) if (await deps.store.removeImage(name)) trimmed.push(name);
    // Below the threshold a trim only drops names: the content goes at the next prune, as it did
    // when a moved tag simply replaced its entry; nothing else is swept behind the user's back.
    if (!plan.overHigh || plan.remove.length === 0) break;
    for (const { name } of plan.remove) if (await deps.store.removeImage(name)) removed.push(name);
    const pruned = await pruneImages(deps.store, deps.snapshotStores, deps.snapshotsInUse);
    freedBytes += pruned.freedBytes;
    after = await measure();
  }
  return trimmed.length + removed.length === 0 ? undefined : { before, after, trimmed, removed, freedBytes };
}
