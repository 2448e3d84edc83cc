// How `apply` and the daemon bring in an image a pass wants: pulled from its registry, or, for an
// Image with `source: file:///…`, imported from that archive (nodes that never reach a registry).
// Either way the digest a tag moves away from is kept for the Image's `keep` (image GC trims it).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importImages } from '../archive/import-images.js';
import { BerthError } from '../lib/errors.js';
import { parseReference } from '../oci/reference.js';
import { type PullEvent, pullImage } from '../pull/index.js';
import type { PullFrom } from '../reconcile/execute.js';
import type { CommandContext } from './command.js';
import { createPullSetup, registryFor } from './puller.js';

/** A `file:///…` URL as a local path; anything else is refused. */
export function sourcePath(source: string): string {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'file:' || (url.host !== '' && url.host !== 'localhost')) {
    throw new BerthError('ERR_IMAGE_SOURCE', 'invalid', `image source "${source}" is not a file:/// URL`);
  }
  return fileURLToPath(url);
}

/**
 * `report`: a line for the command's output when a mirror, not the registry, resolved the image;
 * `onEvent` (per call): the pull's progress, e.g. for the daemon's pull metrics.
 */
export function createReconcilePull(
  ctx: CommandContext,
  report: (line: string) => void,
): (image: string, from?: PullFrom & { onEvent?: (e: PullEvent) => void }) => Promise<void> {
  const setUp = createPullSetup(ctx);
  return async (image, from = {}) => {
    const { platform, source, pullSecrets, onEvent } = from;
    const { deps, options } = await setUp({
      ...(platform ? { platform } : {}),
      ...(onEvent ? { onEvent } : {}),
      keepPrevious: true,
    });
    if (!source) {
      const pulled = await pullImage(
        { ...deps, registry: await registryFor(ctx, pullSecrets) },
        parseReference(image),
        options,
      );
      if (pulled.mirror) report(`${image} (${pulled.manifestDigest}) resolved at mirror ${pulled.mirror}`);
      return;
    }
    const config = await ctx.hostConfig();
    await importImages(deps, sourcePath(source), {
      ...options,
      only: image,
      scratchDir: join(ctx.flags.root, 'ingest'),
      maxExpandedBytes: config.unpack.maxImageBytes,
    });
  };
}
