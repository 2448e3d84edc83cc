import { findImages, pruneImages } from '../../images/index.js';
import { allSnapshotStores } from '../../snapshot/snapshot-store.js';
import type { Command } from '../command.js';
import { formatSize, renderJson } from '../output.js';
import { snapshotsKept } from '../snapshots-kept.js';

export const imageRm: Command = {
  path: ['image', 'rm'],
  summary: 'Remove images by reference or ID, then free the content nothing else uses',
  usage: 'image rm REF|ID... [--keep-content]',
  options: { 'keep-content': { type: 'boolean' } },
  flags: [['--keep-content', 'only remove the names; leave unreferenced blobs for `berth image prune`']],
  args: [1, Number.POSITIVE_INFINITY],
  async run(ctx, { positionals, values }) {
    const store = await ctx.store();
    const names: string[] = [];
    // Resolve every query first: one bad name removes nothing.
    // A name index.json gives to entries of two digests is removed whole: it names no one image.
    const targets = await Promise.all(positionals.map((q) => findImages(store, q, { every: true })));
    for (const records of targets) {
      for (const r of records) if (await store.removeImage(r.name)) names.push(r.name);
    }
    const gc =
      values['keep-content'] === true
        ? undefined
        : await pruneImages(store, allSnapshotStores(ctx.flags.root), () => snapshotsKept(ctx));
    if (ctx.flags.output === 'json') {
      ctx.stdout.write(
        renderJson({
          removed: names,
          removedBlobs: gc?.removedBlobs.length ?? 0,
          removedSnapshots: gc?.removedSnapshots.length ?? 0,
          freedBytes: gc?.freedBytes ?? 0,
        }),
      );
    } else {
      for (const n of names) ctx.stdout.write(`removed ${n}\n`);
      if (gc) {
        ctx.stdout.write(
          `freed ${formatSize(gc.freedBytes)} (${gc.removedBlobs.length} blobs, ${gc.removedSnapshots.length} snapshots)\n`,
        );
      }
    }
    return 0;
  },
};
