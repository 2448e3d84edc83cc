// One daemon per --root, as well as per --state: a second daemon (or an apply, a plan) on the same
// root with another --state finds none of the first one's sandboxes under its state, takes every pod
// for one a reboot stranded, and sets each up again beside the running one (two addresses, the
// first daemon's containers killed). containerd and dockerd lock their root the same way.
import { acquireLock, isLockHeld, type StoreLock } from '../content/lock.js';
import { BerthError } from '../lib/errors.js';

const PURPOSE = 'daemon';

const held = (root: string) =>
  new BerthError(
    'ERR_DAEMON_RUNNING',
    'conflict',
    `a berth daemon already runs on --root ${root} with another --state`,
    {
      hint: "one --state per --root: give this command the daemon's --state, or stop that daemon",
    },
  );

/** The daemon's claim on its root, held until it stops. */
export function claimRoot(root: string): Promise<StoreLock> {
  return acquireLock(root, PURPOSE, { timeoutMs: 0 }).catch((err) => {
    throw isLockHeld(err) ? held(root) : err;
  });
}

/**
 * Refuses when a daemon of another --state holds the root (a command that reconciles it itself
 * would fight it); the daemon of this --state is this command's own, as before.
 */
export async function refuseRootDaemon(root: string, state: string): Promise<void> {
  const ours = await acquireLock(state, PURPOSE, { timeoutMs: 0 }).catch((err) => {
    if (isLockHeld(err)) return undefined;
    throw err;
  });
  if (!ours) return;
  try {
    const probe = await claimRoot(root);
    await probe.release();
  } finally {
    await ours.release();
  }
}
