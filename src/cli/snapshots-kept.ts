// What image prune and image rm must keep: the snapshots containers stand on, looked at only after
// orphaned bundles (a create or a removal killed midway; runtime/orphans.ts) are reaped, so a dead
// create's rootfs mount neither pins its layers nor outlives them.
import type { Digest } from '../oci/digest.js';
import { reapOrphans } from '../runtime/orphans.js';
import { snapshotsInUse } from '../runtime/record.js';
import type { CommandContext } from './command.js';

export async function snapshotsKept(ctx: CommandContext): Promise<Digest[]> {
  const rt = await ctx.runtime().catch(() => undefined); // no runc on this host: no containers either
  if (rt) await reapOrphans(rt);
  return snapshotsInUse(ctx.flags.root);
}
