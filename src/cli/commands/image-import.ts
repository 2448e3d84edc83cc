import { join } from 'node:path';
import { importImages } from '../../archive/import-images.js';
import type { PullEvent } from '../../pull/index.js';
import type { Command } from '../command.js';
import { formatDuration, formatSize, renderJson } from '../output.js';
import { PLATFORM_FLAG, PULL_OPTIONS, progressFor } from '../progress.js';
import { createPullSetup } from '../puller.js';

export const imageImport: Command = {
  path: ['image', 'import'],
  summary: 'Import the images of an OCI layout or docker archive (air-gapped hosts)',
  usage: 'image import FILE|DIR [--name REF] [--platform OS/ARCH[/VARIANT]] [--no-unpack]',
  options: { ...PULL_OPTIONS, name: { type: 'string' } },
  flags: [
    [
      '--name REF',
      "name the archive's one image REF (a layout whose ref.name is a bare tag, as `skopeo copy … oci:DIR:TAG` writes; a `docker save` of an image ID); of a layout's several, the one whose ref.name is REF's tag",
    ],
    PLATFORM_FLAG,
    ['--no-unpack', 'only verify and store the blobs; do not unpack layers into snapshots'],
  ],
  args: [1, 1],
  async run(ctx, { positionals, values }) {
    const progress = progressFor(ctx);
    const started = Date.now();
    const { deps, options } = await createPullSetup(ctx)({
      ...(typeof values.platform === 'string' ? { platform: values.platform } : {}),
      unpack: values['no-unpack'] !== true,
      ...(progress ? { onEvent: (e: PullEvent) => progress.onEvent(e) } : {}),
    });
    const config = await ctx.hostConfig();
    let result: Awaited<ReturnType<typeof importImages>>;
    try {
      result = await importImages(deps, positionals[0] as string, {
        ...options,
        scratchDir: join(ctx.flags.root, 'ingest'),
        ...(typeof values.name === 'string' ? { name: values.name } : {}),
        maxExpandedBytes: config.unpack.maxImageBytes,
      });
    } finally {
      progress?.finish();
    }
    const elapsed = Date.now() - started;
    const events = await ctx.events();
    for (const i of result.images)
      events.emit({
        type: 'image',
        object: i.reference,
        reason: 'Imported',
        message: `from ${result.archive}`,
      });
    if (ctx.flags.output === 'json') {
      ctx.stdout.write(renderJson({ ...result, durationMs: elapsed }));
      return 0;
    }
    for (const i of result.images) {
      ctx.stdout.write(
        `imported ${i.reference} (${i.manifestDigest}), ${formatSize(i.size)}, ` +
          `${i.fetchedLayers} layer(s) stored` +
          (i.unpackedSize !== undefined ? `, ${i.unpackedLayers} unpacked` : '') +
          '\n',
      );
    }
    for (const d of result.unnamed) ctx.stderr.write(`skipped an image without a name (${d})\n`);
    ctx.stdout.write(
      `${result.images.length} image(s) from ${result.archive} in ${formatDuration(elapsed)}\n`,
    );
    return 0;
  },
};
