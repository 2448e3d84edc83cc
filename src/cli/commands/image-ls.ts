import { ambiguousName, ambiguousNames, distinctEntries, entriesNamed } from '../../content/image-names.js';
import { describeImage, unpackedSize } from '../../images/index.js';
import { formatErrorLine } from '../../lib/errors.js';
import { printable } from '../../lib/printable.js';
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
    // One row per name and digest: an entry index.json holds twice (another tool may write it so)
    // is one image. A name given to entries of two digests is no image to any command
    // (content/image-names.ts): its rows are listed, marked, and the warning says how to mend it.
    const listed = await store.listImages();
    const records = distinctEntries(listed);
    const ambiguous = ambiguousNames(listed);
    for (const name of [...ambiguous].sort()) {
      const e = ambiguousName(name, entriesNamed(listed, name));
      ctx.stderr.write(`${printable(`warning: ${e.message}: no command takes it (${e.hint})`)}\n`);
    }
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
    images.sort((a, b) => a.name.localeCompare(b.name) || a.digest.localeCompare(b.digest));
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
            ambiguous: ambiguous.has(i.name),
          })),
        ),
      );
      return 0;
    }
    const now = ctx.now();
    const rows = images.map((i) => [
      digestHex(i.id).slice(0, 12),
      ambiguous.has(i.name) ? `${i.name} (ambiguous)` : i.name,
      formatSize(i.size),
      i.unpacked === undefined ? '-' : formatSize(i.unpacked),
      formatAge(now, i.pulledAt),
      formatAge(now, i.lastUsedAt),
    ]);
    ctx.stdout.write(renderTable(['ID', 'NAME', 'SIZE', 'UNPACKED', 'PULLED', 'LAST USED'], rows));
    return 0;
  },
};
