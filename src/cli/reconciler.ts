// The reconciler as the CLI builds it: runtime, store and host layout from the global flags, and
// how actions are printed.
import { statfsSync } from 'node:fs';
import { availableParallelism, hostname, networkInterfaces, totalmem } from 'node:os';
import { join } from 'node:path';
import { acquireLock } from '../content/lock.js';
import { healthPath } from '../health/health-file.js';
import { lastGoodStore } from '../manifest/last-good.js';
import { NETWORK_LOCK_DIR } from '../network/adapter.js';
import { networkDirs } from '../network/attachments.js';
import { hostPortsDirOf } from '../network/host-ports.js';
import type { NodeFacts } from '../reconcile/downward.js';
import type { Reconciler } from '../reconcile/loop.js';
import type { Action } from '../reconcile/plan.js';
import { statusFile, statusPath } from '../reconcile/status-file.js';
import type { CommandContext } from './command.js';

export async function openReconciler(ctx: CommandContext): Promise<Reconciler> {
  const rt = await ctx.runtime();
  return {
    rt,
    store: await ctx.store(),
    host: {
      volumes: rt.paths.volumes,
      pods: join(ctx.flags.root, 'pods'),
      netns: rt.paths.netns,
      node: nodeFacts(ctx.flags.root),
      attachments: networkDirs(ctx.flags.state, (await ctx.hostConfig()).network.name).attachments,
      health: healthPath(ctx.flags.state),
      hostPorts: { dir: hostPortsDirOf(NETWORK_LOCK_DIR), state: ctx.flags.state },
      idPool: (await ctx.hostConfig()).userNamespaces,
    },
    status: statusFile(statusPath(ctx.flags.state)),
    lastGood: lastGoodStore(join(ctx.flags.root, 'last-good')),
    now: () => ctx.now().getTime(),
    imageRefreshMs: (await ctx.hostConfig()).pull.alwaysRefreshMs,
    // Another apply's pass (or a daemon's, in a race with its start) finishes first.
    lock: () => acquireLock(ctx.flags.state, 'reconcile', { timeoutMs: 30 * 60_000 }),
  };
}

/**
 * The host as the downward API shows it: its name, first non-loopback IPv4 address and capacity
 * (ephemeral storage: the file system under `root`, as the kubelet's is the one under its root dir).
 */
function nodeFacts(root: string): NodeFacts {
  const ip =
    Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? '';
  let ephemeralStorageBytes = 0;
  try {
    const fs = statfsSync(root);
    ephemeralStorageBytes = fs.blocks * fs.bsize;
  } catch {
    // a root not made yet (a first plan): unknown, 0
  }
  return {
    name: hostname(),
    ip,
    milliCpus: availableParallelism() * 1000,
    memoryBytes: totalmem(),
    ephemeralStorageBytes,
  };
}

/** `run          web/main: new container` */
export function formatAction(a: Action): string {
  return `${a.kind.padEnd(12)} ${a.reason}`;
}
