import { describeImage, findImages } from '../../images/index.js';
import type { Command } from '../command.js';
import { renderJson } from '../output.js';

export const imageInspect: Command = {
  path: ['image', 'inspect'],
  summary: 'Show an image: its manifest and config, as JSON',
  usage: 'image inspect REF|ID',
  options: {},
  flags: [],
  args: [1, 1],
  async run(ctx, { positionals }) {
    const store = await ctx.store();
    const records = await findImages(store, positionals[0] as string);
    const details = await Promise.all(records.map((r) => describeImage(store, r)));
    ctx.stdout.write(renderJson(details.length === 1 ? details[0] : details));
    return 0;
  },
};
