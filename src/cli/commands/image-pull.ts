import { hostPlatform, parsePlatform } from '../../oci/platform.js';
import { parseReference } from '../../oci/reference.js';
import { type PullDeps, type PullResult, pullImage } from '../../pull/index.js';
import { createWorkerRunner } from '../../snapshot/apply-thread.js';
import type { Command } from '../command.js';
import { formatDuration, formatSize, renderJson } from '../output.js';
import { createProgressRenderer } from '../progress.js';
import { UNPACK_WORKER } from '../workers.js';

function armVersion(): string | undefined {
  const v = (process.config.variables as Record<string, unknown>).arm_version;
  return v === undefined ? undefined : String(v);
}

export const imagePull: Command = {
  path: ['image', 'pull'],
  summary: 'Fetch an image from its registry into the content store',
  usage: 'image pull REF [--platform OS/ARCH[/VARIANT]] [--no-unpack]',
  options: { platform: { type: 'string' }, 'no-unpack': { type: 'boolean' } },
  flags: [
    ['--platform OS/ARCH[/VARIANT]', "platform to pick from a multi-platform image (default: this host's)"],
    ['--no-unpack', 'only fetch and verify the blobs; do not unpack layers into snapshots'],
  ],
  args: [1, 1],
  async run(ctx, { positionals, values }) {
    const ref = parseReference(positionals[0] as string);
    const platform =
      typeof values.platform === 'string'
        ? parsePlatform(values.platform)
        : hostPlatform(process.platform, process.arch, armVersion());
    const [config, store, registry] = [await ctx.hostConfig(), await ctx.store(), await ctx.registry()];
    const progress =
      ctx.stderr.isTTY && ctx.flags.output === 'table'
        ? createProgressRenderer(ctx.stderr, Date.now)
        : undefined;
    const started = Date.now();
    let result: PullResult;
    try {
      let unpack: PullDeps['unpack'];
      if (values['no-unpack'] !== true) {
        const run = createWorkerRunner(UNPACK_WORKER);
        run.warm(); // starts while the manifest and config are fetched
        unpack = {
          snapshots: await ctx.snapshots(),
          limits: config.unpack,
          run,
          concurrency: config.unpack.maxConcurrentLayers,
        };
      }
      result = await pullImage({ registry, store, now: ctx.now, ...(unpack ? { unpack } : {}) }, ref, {
        platform,
        maxConcurrentDownloads: config.pull.maxConcurrentDownloads,
        signal: ctx.signal,
        onEvent: progress ? (e) => progress.onEvent(e) : undefined,
      });
    } finally {
      progress?.finish(); // the last redraw, before anything else reaches the terminal
    }
    const elapsed = Date.now() - started;
    if (ctx.flags.output === 'json') {
      ctx.stdout.write(renderJson({ ...result, durationMs: elapsed }));
    } else {
      ctx.stdout.write(
        `pulled ${result.reference} (${result.manifestDigest}), ${formatSize(result.size)}, ` +
          `${result.fetchedLayers} layer(s) fetched` +
          (result.unpackedSize !== undefined
            ? `, ${result.unpackedLayers} unpacked (${formatSize(result.unpackedSize)} uncompressed)`
            : '') +
          `, in ${formatDuration(elapsed)}\n`,
      );
    }
    return 0;
  },
};
