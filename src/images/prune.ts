import type { ContentStore, GcResult } from '../content/types.js';
import type { Digest } from '../oci/digest.js';
import { chainIds } from '../snapshot/chain.js';
import type { SnapshotStore } from '../snapshot/snapshot-store.js';
import { describeImage } from './describe.js';

export interface PruneResult extends GcResult {
  removedSnapshots: Digest[];
}

/**
 * Garbage-collect blobs and snapshots no image references (only while no pull is in flight).
 * `snapshotStores`: every form, so snapshots left from before a change of form go too.
 * A container being created holds a lease until its record exists, so GC waits for it.
 */
export async function pruneImages(
  store: ContentStore,
  snapshotStores: SnapshotStore[],
  /** Snapshots containers stand on, whatever happened to their images. */
  inUse: () => Promise<readonly string[]> = async () => [],
): Promise<PruneResult> {
  const removedSnapshots: Digest[] = [];
  const result = await store.gc(async () => {
    const keep = new Set<string>(await inUse());
    for (const record of await store.listImages()) {
      const details = await describeImage(store, record);
      for (const id of chainIds(details.config.rootfs.diff_ids)) keep.add(id);
    }
    for (const snapshots of snapshotStores) {
      for (const id of await snapshots.list()) {
        if (keep.has(id)) continue;
        await snapshots.remove(id);
        removedSnapshots.push(id);
      }
      await snapshots.clean();
    }
  });
  return { ...result, removedSnapshots: removedSnapshots.sort() };
}

/** The image's uncompressed size when every layer is unpacked, else undefined. */
export async function unpackedSize(
  snapshots: SnapshotStore,
  diffIds: readonly string[],
): Promise<number | undefined> {
  let total = 0;
  for (const id of chainIds(diffIds)) {
    const info = await snapshots.get(id);
    if (!info) return undefined;
    total += info.size;
  }
  return total;
}
