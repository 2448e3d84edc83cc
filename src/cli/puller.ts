// Pulling and importing (with unpacking) as the CLI does it: the host config's limits, unpack worker threads,
// the command's abort signal. Shared by `image pull` and the reconciler's pull actions.
import { readFileSync } from 'node:fs';
import { amd64Level, hostPlatform, parsePlatform } from '../oci/platform.js';
import { parseReference } from '../oci/reference.js';
import {
  type PullDeps,
  type PullEvent,
  type PullOptions,
  type PullResult,
  pullImage,
} from '../pull/index.js';
import type { RegistryClient } from '../registry/types.js';
import { createWorkerRunner } from '../snapshot/apply-thread.js';
import type { CommandContext } from './command.js';
import { UNPACK_WORKER } from './workers.js';

/** The CPU's level for the host platform: the ARM version, or the x86-64 level of its flags. */
function cpuLevel(): string | undefined {
  if (process.arch === 'x64') {
    try {
      const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
      return flags === undefined ? undefined : String(amd64Level(flags));
    } catch {
      return undefined; // no /proc: plain amd64, which every x86-64 CPU runs
    }
  }
  const v = (process.config.variables as Record<string, unknown>).arm_version;
  return v === undefined ? undefined : String(v);
}

export interface PullRequest {
  image: string;
  platform?: string;
  unpack?: boolean;
  onEvent?: (e: PullEvent) => void;
  /** Keep the digest a tag moves away from (the reconciler's pulls: image GC trims by `keep`). */
  keepPrevious?: boolean;
  /** docker config.json texts tried first for this pull (a pod's imagePullSecrets). */
  pullSecrets?: string[];
}

export type Puller = (req: PullRequest) => Promise<PullResult>;

/** What a pull or an import needs besides its source: the store, unpacking, limits, the platform. */
export interface PullSetup {
  deps: Omit<PullDeps, 'registry'>;
  options: PullOptions;
}

export function createPuller(ctx: CommandContext): Puller {
  const setUp = createPullSetup(ctx);
  return async (req) => {
    const ref = parseReference(req.image);
    const { deps, options } = await setUp(req);
    return pullImage({ ...deps, registry: await registryFor(ctx, req.pullSecrets) }, ref, options);
  };
}

/** The host's registry client, or one that tries a pod's imagePullSecrets first. */
export async function registryFor(
  ctx: CommandContext,
  pullSecrets: string[] | undefined,
): Promise<RegistryClient> {
  return pullSecrets?.length ? ctx.registryWithPullSecrets(pullSecrets) : ctx.registry();
}

export function createPullSetup(
  ctx: CommandContext,
): (req: Omit<PullRequest, 'image'>) => Promise<PullSetup> {
  let run: ReturnType<typeof createWorkerRunner> | undefined;
  return async (req) => {
    const platform = req.platform
      ? parsePlatform(req.platform)
      : hostPlatform(process.platform, process.arch, cpuLevel());
    const [config, store] = [await ctx.hostConfig(), await ctx.store()];
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
    return {
      deps: { store, now: ctx.now, ...(unpack ? { unpack } : {}) },
      options: {
        platform,
        maxConcurrentDownloads: config.pull.maxConcurrentDownloads,
        signal: ctx.signal,
        ...(req.onEvent ? { onEvent: req.onEvent } : {}),
        ...(req.keepPrevious ? { keepPrevious: true } : {}),
      },
    };
  };
}
