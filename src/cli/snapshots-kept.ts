// What image prune and image rm must keep: the snapshots containers stand on, looked at only after
// orphaned bundles (a create or a removal killed midway; runtime/orphans.ts) are reaped, so a dead
// create's rootfs mount neither pins its layers nor outlives them.
import { formatErrorLine } from '../lib/errors.js';
import type { Digest } from '../oci/digest.js';
import { reapOrphans } from '../runtime/orphans.js';
import { snapshotsInUse } from '../runtime/record.js';
import type { CommandContext } from './command.js';

export async function snapshotsKept(ctx: CommandContext): Promise<Digest[]> {
  const rt = await ctx.runtime().catch(() => undefined); // no runc on this host: no containers either
  const failed = rt ? (await reapOrphans(rt)).failed : [];
  for (const { id, error } of failed)
    ctx.stderr.write(
      `warning: container ${id}, left by a killed berth, could not be removed: ${formatErrorLine(error)}\n`,
    );
  // An orphan still there keeps what it stands on: its chain is unknown without a record, so keep all.
  return snapshotsInUse(ctx.flags.root, { keepAll: failed.length > 0 });
}
