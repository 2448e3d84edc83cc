// Pulling (with unpacking) as the CLI does it: the host config's limits, unpack worker threads,
// the command's abort signal. Shared by `image pull` and the reconciler's pull actions.
import { hostPlatform, parsePlatform } from '../oci/platform.js';
import { parseReference } from '../oci/reference.js';
import { type PullDeps, type PullEvent, type PullResult, pullImage } from '../pull/index.js';
import { createWorkerRunner } from '../snapshot/apply-thread.js';
import type { CommandContext } from './command.js';
import { UNPACK_WORKER } from './workers.js';

function armVersion(): string | undefined {
  const v = (process.config.variables as Record<string, unknown>).arm_version;
  return v === undefined ? undefined : String(v);
}

export interface PullRequest {
  image: string;
  platform?: string;
  unpack?: boolean;
  onEvent?: (e: PullEvent) => void;
  /** docker config.json texts tried first for this pull (a pod's imagePullSecrets). */
  pullSecrets?: string[];
}

export type Puller = (req: PullRequest) => Promise<PullResult>;

export function createPuller(ctx: CommandContext): Puller {
  let run: ReturnType<typeof createWorkerRunner> | undefined;
  return async (req) => {
    const ref = parseReference(req.image);
    const platform = req.platform
      ? parsePlatform(req.platform)
      : hostPlatform(process.platform, process.arch, armVersion());
    const [config, store] = [await ctx.hostConfig(), await ctx.store()];
    const registry = req.pullSecrets?.length
      ? await ctx.registryWithPullSecrets(req.pullSecrets)
      : await ctx.registry();
    let unpack: PullDeps['unpack'];
    if (req.unpack !== false) {
      if (!run) {
        run = createWorkerRunner(UNPACK_WORKER);
        run.warm(); // starts while the manifest and config are fetched
      }
      unpack = {
        snapshots: await ctx.snapshots(),
        limits: config.unpack,
        run,
        concurrency: config.unpack.maxConcurrentLayers,
      };
    }
    return pullImage({ registry, store, now: ctx.now, ...(unpack ? { unpack } : {}) }, ref, {
      platform,
      maxConcurrentDownloads: config.pull.maxConcurrentDownloads,
      signal: ctx.signal,
      ...(req.onEvent ? { onEvent: req.onEvent } : {}),
    });
  };
}
