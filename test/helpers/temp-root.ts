// Removing a test's temp root when berth may have left mounts in it: a berth killed mid-way (a
// daemon stopped during its overlay probe, a CLI sent SIGKILL) leaves what its tools mounted, and
// a `mount` it had started may land only after it died. `rm -rf` of such a root fails with EBUSY on
// the mount point, after removing the overlay's upper and work directories under it, and the mount
// stays. So every mount at or under the root is taken away first (lazily, deepest first: a busy one
// goes once unused), and a removal that meets a mount made meanwhile goes round again.
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { mountsUnder } from './leaks.js';

const ROUNDS = 50;

/** Every mount at or under `dir` detached (lazily), the latest first. */
export function unmountUnder(dir: string): void {
  for (const m of mountsUnder(dir).reverse()) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // gone already (a stacked mount went with the one below it)
    }
  }
}

/** `dir` removed with everything under it, mounts first. */
export async function removeTempRoot(dir: string): Promise<void> {
  for (let round = 1; ; round++) {
    unmountUnder(dir);
    try {
      await rm(dir, { recursive: true, force: true });
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (round >= ROUNDS || (code !== 'EBUSY' && code !== 'ENOTEMPTY')) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
