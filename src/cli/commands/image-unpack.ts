import { readdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describeImage, findImage } from '../../images/index.js';
import { createApplyPool } from '../../snapshot/apply-thread.js';
import { unpackImage } from '../../snapshot/unpack-image.js';
import type { Command } from '../command.js';
import { formatSize, renderJson } from '../output.js';
import { prepareUnpackDest } from '../unpack-dest.js';
import { UNPACK_WORKER } from '../workers.js';

export const imageUnpack: Command = {
  path: ['image', 'unpack'],
  summary: "Write an image's flattened root filesystem into a new directory (for debugging and comparison)",
  usage: 'image unpack REF|ID DEST',
  options: {},
  flags: [],
  args: [2, 2],
  async run(ctx, { positionals }) {
    const store = await ctx.store();
    const details = await describeImage(store, await findImage(store, positionals[0] as string));
    const dest = resolve(positionals[1] as string);
    const created = await prepareUnpackDest(dest);
    try {
      const { unpack } = await ctx.hostConfig();
      const bytes = await unpackImage(
        store,
        { name: details.name, layers: details.manifest.layers, config: details.config },
        dest,
        unpack,
        createApplyPool(UNPACK_WORKER).target,
      );
      if (ctx.flags.output === 'json') ctx.stdout.write(renderJson({ name: details.name, dest, bytes }));
      else ctx.stdout.write(`unpacked ${details.name} into ${dest} (${formatSize(bytes)})\n`);
      return 0;
    } catch (err) {
      // Leave nothing half-written behind: empty what we wrote, and remove DEST if we made it.
      for (const entry of await readdir(dest).catch(() => []))
        await rm(`${dest}/${entry}`, { recursive: true, force: true });
      if (created) await rm(dest, { recursive: true, force: true });
      throw err;
    }
  },
};
