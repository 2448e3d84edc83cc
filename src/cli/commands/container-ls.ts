import { containerWarnings } from '../../runtime/container-warnings.js';
import { listContainers } from '../../runtime/containers.js';
import type { Command } from '../command.js';
import { formatAge, renderJson, renderTable } from '../output.js';

export const containerLs: Command = {
  path: ['container', 'ls'],
  summary: 'List containers with their live state',
  usage: 'container ls',
  options: {},
  flags: [],
  args: [0, 0],
  async run(ctx) {
    const rt = await ctx.runtime();
    const all = await listContainers(rt);
    // A record that cannot be read is left out of the list and named here (stderr: JSON stays JSON),
    // as is a runc state file that cannot be read.
    ctx.stderr.write(containerWarnings(rt.paths));
    if (ctx.flags.output === 'json') {
      ctx.stdout.write(renderJson(all));
      return 0;
    }
    const now = ctx.now();
    const rows = all.map((c) => [
      c.name,
      c.id.slice(0, 12),
      c.image,
      c.state === 'exited' ? `exited (${c.exitCode ?? c.reason ?? '?'})` : c.state,
      c.pid === null ? '-' : String(c.pid),
      formatAge(now, c.createdAt),
    ]);
    ctx.stdout.write(renderTable(['NAME', 'ID', 'IMAGE', 'STATE', 'PID', 'CREATED'], rows));
    return 0;
  },
};
