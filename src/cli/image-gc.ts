// Image GC as `berth apply` and the daemon run it after a pass (images/disk-gc.ts): what the
// manifests name (Pods' images, Image refs with their `keep`) is read from the folder as the pass
// reads it (reconcile/pass-read.ts: last good content for a broken file, or for one whose pods
// cannot be built), what containers use from their records.
import type { EventSink } from '../events/event.js';
import { collectImages, type ImageGcResult } from '../images/disk-gc.js';
import { normalizeImage } from '../manifest/convert.js';
import type { ManifestDoc } from '../manifest/kinds.js';
import { loadManifests } from '../manifest/load.js';
import { createWriterScan } from '../manifest/open-writers.js';
import { type PassReader, passReadOptions } from '../reconcile/pass-read.js';
import { runtimePaths } from '../runtime/paths.js';
import { readRecords } from '../runtime/record.js';
import { allSnapshotStores } from '../snapshot/snapshot-store.js';
import type { CommandContext } from './command.js';
import { formatSize } from './output.js';
import { snapshotsKept } from './snapshots-kept.js';

/** Image names the documents want, and the `keep` of each Image (pure). */
export function imagesWanted(docs: ManifestDoc[]): { wanted: Set<string>; keep: Map<string, number> } {
  const wanted = new Set<string>();
  const keep = new Map<string, number>();
  const add = (ref: string) => {
    try {
      const name = normalizeImage(ref);
      wanted.add(name);
      return name;
    } catch {
      return undefined; // a bad reference is the file's diagnostic; it names no image
    }
  };
  for (const d of docs) {
    if (d.kind === 'Image') {
      const name = add(d.spec.ref);
      if (name && d.spec.keep) keep.set(name, Math.max(keep.get(name) ?? 0, d.spec.keep));
    } else if (d.kind === 'Pod') {
      for (const c of [...(d.spec.initContainers ?? []), ...d.spec.containers]) add(c.image);
      for (const v of d.spec.volumes ?? []) if (v.image) add(v.image.reference);
    }
  }
  return { wanted, keep };
}

/**
 * `trim`: also drop previous digests beyond their Image's `keep` (after a pass that pulled).
 * `reconciler` is the passes' (its host layout, last good record and clock), `watching` whether
 * they are a daemon's: the folder is read as they read it.
 */
export async function runImageGc(
  ctx: CommandContext,
  dir: string,
  o: { trim: boolean; reconciler: PassReader; watching?: boolean },
): Promise<ImageGcResult | undefined> {
  const config = await ctx.hostConfig();
  const snapshots = await ctx.snapshots();
  return collectImages(
    {
      store: await ctx.store(),
      snapshotStores: [
        snapshots,
        ...allSnapshotStores(ctx.flags.root).filter((s) => s.dir !== snapshots.dir),
      ],
      snapshotsInUse: () => snapshotsKept(ctx),
      imagesInUse: async () => {
        const { containers } = runtimePaths(ctx.flags.root, ctx.flags.state);
        return new Set((await readRecords(containers)).flatMap((r) => [r.image, r.imageId]));
      },
    },
    {
      wants: async () => {
        // A whole look at /proc, as without a daemon: with one poll's budget a busy host never
        // clears a file just edited, which then counts with its last good content, and an image
        // its new content names (pulled, its container not made yet) would be trimmed. Rare: a
        // collection runs only past the high-water mark.
        const writers = createWriterScan({ budgetMs: Number.POSITIVE_INFINITY });
        const read = passReadOptions(o.reconciler, { watching: o.watching === true });
        return imagesWanted((await loadManifests(dir, { ...read, writers })).docs.map((d) => d.doc));
      },
      trim: o.trim,
      highPercent: config.images.gcHighPercent,
      lowPercent: config.images.gcLowPercent,
    },
  );
}

/**
 * `image gc: removed 2 image(s) (a, b), freed 1.2 GB; file system 91% → 78% used`, or undefined when
 * only previous digests were trimmed (housekeeping of every pull of a moved tag: not worth a line).
 */
export function formatImageGc(r: ImageGcResult): string | undefined {
  if (r.removed.length === 0) return undefined;
  const pct = (u: { totalBytes: number; usedBytes: number }) =>
    `${u.totalBytes === 0 ? 0 : Math.round((u.usedBytes * 100) / u.totalBytes)}%`;
  return (
    `image gc: removed ${r.removed.length} image(s) (${r.removed.join(', ')}), freed ${formatSize(r.freedBytes)}; ` +
    `file system ${pct(r.before)} → ${pct(r.after)} used`
  );
}

/** One `GarbageCollected` event per image a GC under disk pressure removed. */
export function emitImageGcEvents(events: EventSink, r: ImageGcResult): void {
  const line = formatImageGc(r);
  for (const image of r.removed)
    events.emit({ type: 'image', object: image, reason: 'GarbageCollected', message: line });
}
