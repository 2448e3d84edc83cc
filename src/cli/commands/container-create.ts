import { createContainer } from '../../runtime/create.js';
import type { Command } from '../command.js';
import { CREATE_FLAGS, CREATE_OPTIONS, settingsFromFlags } from '../create-flags.js';
import { renderJson } from '../output.js';

export const containerCreate: Command = {
  path: ['container', 'create'],
  summary: 'Create a container from an image (not started): rootfs, config.json, conmon + runc create',
  usage: 'container create IMAGE NAME [flags] [-- CMD ARGS...]',
  options: CREATE_OPTIONS,
  flags: CREATE_FLAGS,
  args: [2, 2],
  async run(ctx, { positionals, values, passthrough }) {
    const rt = await ctx.runtime();
    const [image, name] = positionals as [string, string];
    const settings = settingsFromFlags(name, values, passthrough, rt.paths.volumes);
    const record = await createContainer(rt, image, settings);
    if (ctx.flags.output === 'json')
      ctx.stdout.write(renderJson({ id: record.id, name: record.name, image: record.image }));
    else ctx.stdout.write(`${record.name} ${record.id}\n`);
    return 0;
  },
};
