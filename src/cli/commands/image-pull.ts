import type { PullEvent, PullResult } from '../../pull/index.js';
import type { Command } from '../command.js';
import { formatDuration, formatSize, renderJson } from '../output.js';
import { PLATFORM_FLAG, PULL_OPTIONS, progressFor } from '../progress.js';
import { createPuller } from '../puller.js';

export const imagePull: Command = {
  path: ['image', 'pull'],
  summary: 'Fetch an image from its registry into the content store',
  usage: 'image pull REF [--platform OS/ARCH[/VARIANT]] [--no-unpack]',
  options: PULL_OPTIONS,
  flags: [
    PLATFORM_FLAG,
    ['--no-unpack', 'only fetch and verify the blobs; do not unpack layers into snapshots'],
  ],
  args: [1, 1],
  async run(ctx, { positionals, values }) {
    const progress = progressFor(ctx);
    const started = Date.now();
    let result: PullResult;
    try {
      result = await createPuller(ctx)({
        image: positionals[0] as string,
        ...(typeof values.platform === 'string' ? { platform: values.platform } : {}),
        unpack: values['no-unpack'] !== true,
        ...(progress ? { onEvent: (e: PullEvent) => progress.onEvent(e) } : {}),
      });
    } finally {
      progress?.finish(); // the last redraw, before anything else reaches the terminal
    }
    const elapsed = Date.now() - started;
    if (ctx.flags.output === 'json') {
      ctx.stdout.write(renderJson({ ...result, durationMs: elapsed }));
    } else {
      ctx.stdout.write(
        `pulled ${result.reference} (${result.manifestDigest})` +
          (result.mirror ? ` from mirror ${result.mirror}` : '') +
          `, ${formatSize(result.size)}, ` +
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
