import { describeImage, unpackedSize } from '../../images/index.js';
import { formatErrorLine } from '../../lib/errors.js';
import { digestHex } from '../../oci/digest.js';
import { formatPlatform } from '../../oci/platform.js';
import type { Command } from '../command.js';
import { formatAge, formatSize, renderJson, renderTable } from '../output.js';

export const imageLs: Command = {
  path: ['image', 'ls'],
  summary: 'List the images in the store',
  usage: 'image ls [--output json]',
  options: {},
  flags: [],
  args: [0, 0],
  async run(ctx) {
    const store = await ctx.store();
    const records = await store.listImages();
    const snapshots = await ctx.snapshots();
    // One image whose manifest or config cannot be read (a damaged blob) is named, not fatal: the
    // rest are listed, and a pull or import of it stores the blob again.
    const described = await Promise.all(
      records.map(async (r) => {
        try {
          const d = await describeImage(store, r);
          return { ...d, unpacked: await unpackedSize(snapshots, d.config.rootfs.diff_ids) };
        } catch (err) {
          ctx.stderr.write(
            `warning: skipped image ${r.name}: ${formatErrorLine(err)} (berth image pull or import of it stores it again)\n`,
          );
          return undefined;
        }
      }),
    );
    const images = described.filter((i) => i !== undefined);
    images.sort((a, b) => a.name.localeCompare(b.name));
    for (const file of snapshots.unreadable()) {
      ctx.stderr.write(
        `warning: ${file}: not a snapshot record; its layer counts as not unpacked until the next pull or apply of an image using it unpacks it again\n`,
      );
    }
    if (ctx.flags.output === 'json') {
      ctx.stdout.write(
        renderJson(
          images.map((i) => ({
            id: i.id,
            name: i.name,
            digest: i.digest,
            repoDigest: i.repoDigest,
            platform: i.platform ? formatPlatform(i.platform) : null,
            size: i.size,
            unpackedSize: i.unpacked ?? null,
            layers: i.layers,
            pulledAt: i.pulledAt,
            lastUsedAt: i.lastUsedAt ?? null,
          })),
        ),
      );
      return 0;
    }
    const now = ctx.now();
    const rows = images.map((i) => [
      digestHex(i.id).slice(0, 12),
      i.name,
      formatSize(i.size),
      i.unpacked === undefined ? '-' : formatSize(i.unpacked),
      formatAge(now, i.pulledAt),
      formatAge(now, i.lastUsedAt),
    ]);
    ctx.stdout.write(renderTable(['ID', 'NAME', 'SIZE', 'UNPACKED', 'PULLED', 'LAST USED'], rows));
    return 0;
  },
};
