// Making sure every layer of an image has its snapshot: missing ones are unpacked (overlay form)
// into a temp directory and published by rename; present ones are shared as they are.
import type { ContentStore } from '../content/types.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import type { ImageConfig } from '../oci/image.js';
import { chainIds } from './chain.js';
import type { SnapshotStore } from './snapshot-store.js';
import { applyLayerBlob, type UnpackLimits } from './unpack-image.js';

export type UnpackEvent = {
  type: 'unpacked';
  digest: Digest;
  chainId: Digest;
  size: number;
  existed: boolean;
};

export interface EnsureResult {
  chainIds: Digest[];
  unpacked: number;
  /** Uncompressed size of the whole image. */
  size: number;
}

export async function ensureSnapshots(
  deps: { store: ContentStore; snapshots: SnapshotStore; now: () => Date },
  layers: Descriptor[],
  config: ImageConfig,
  limits: UnpackLimits,
  onEvent?: (e: UnpackEvent) => void,
): Promise<EnsureResult> {
  await deps.snapshots.clean(); // temp directories of unpacks that were killed
  const ids = chainIds(config.rootfs.diff_ids);
  const preserveOwnership = process.getuid?.() === 0;
  let unpacked = 0;
  let size = 0;
  for (const [i, layer] of layers.entries()) {
    const chainId = ids[i] as Digest;
    const existing = await deps.snapshots.get(chainId);
    if (existing) {
      size += existing.size;
      onEvent?.({ type: 'unpacked', digest: layer.digest, chainId, size: existing.size, existed: true });
      continue;
    }
    const diffId = config.rootfs.diff_ids[i] as Digest;
    const target = await deps.snapshots.prepare(chainId);
    try {
      const bytes = await applyLayerBlob(deps.store, layer, diffId, target.fs, {
        mode: 'overlay',
        maxBytes: Math.min(limits.maxLayerBytes, limits.maxImageBytes - size),
        reserveBytes: limits.reserveBytes,
        preserveOwnership,
      });
      await target.commit({
        chainId,
        diffId,
        parent: i === 0 ? null : (ids[i - 1] as Digest),
        size: bytes,
        createdAt: deps.now().toISOString(),
      });
      size += bytes;
      unpacked++;
      onEvent?.({ type: 'unpacked', digest: layer.digest, chainId, size: bytes, existed: false });
    } catch (err) {
      await target.discard();
      throw err;
    }
  }
  return { chainIds: ids, unpacked, size };
}
