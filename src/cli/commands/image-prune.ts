import { pruneImages } from '../../images/index.js';
import { runtimePaths } from '../../runtime/paths.js';
import { formatBadRecords, readRecordsReport } from '../../runtime/record.js';
import { allSnapshotStores } from '../../snapshot/snapshot-store.js';
import type { Command } from '../command.js';
import { formatSize, renderJson } from '../output.js';
import { snapshotsKept } from '../snapshots-kept.js';

export const imagePrune: Command = {
  path: ['image', 'prune'],
  summary: 'Remove every blob and snapshot no image references, and stale partial downloads',
  usage: 'image prune',
  options: {},
  flags: [],
  args: [0, 0],
  async run(ctx) {
    const store = await ctx.store();
    // A container whose record is unreadable keeps every snapshot (see snapshotsInUse): say why.
    const { containers } = runtimePaths(ctx.flags.root, ctx.flags.state);
    ctx.stderr.write(formatBadRecords(readRecordsReport(containers).bad));
    const result = await pruneImages(store, allSnapshotStores(ctx.flags.root), () => snapshotsKept(ctx));
    if (ctx.flags.output === 'json') ctx.stdout.write(renderJson(result));
    else
      ctx.stdout.write(
        `removed ${result.removedBlobs.length} blobs, freed ${formatSize(result.freedBytes)}\n`,
      );
    return 0;
  },
};
