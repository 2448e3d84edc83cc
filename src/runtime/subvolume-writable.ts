// A btrfs subvolume inside a tree being removed (a container ran `btrfs subvolume create` in its
// emptyDir, or took a read-only snapshot there, as backup tools do): an empty subvolume goes by
// rmdir like a directory (Linux ≥ 4.18), but the files of a read-only one cannot be unlinked
// (EROFS). So before a subvolume is emptied its read-only flag is cleared, through the descriptor
// the walk holds (`/proc/<pid>/fd/<fd>`: never a path a container could swap meanwhile). Without
// btrfs-progs, or where clearing is refused, it stays read-only and the removal fails on it as
// ERR_REMOVE_DENIED (remove-denied.ts), naming it.
import { runTool } from './tool.js';

/** Clear the read-only flag of the btrfs subvolume open as `fd` (best effort). */
export async function makeSubvolumeWritable(fd: number): Promise<void> {
  await runTool(
    'btrfs',
    ['property', 'set', '-ts', `/proc/${process.pid}/fd/${fd}`, 'ro', 'false'],
    'subvolume',
  ).catch(() => undefined);
}
