import { spawn } from 'node:child_process';
import { BerthError } from '../../lib/errors.js';
import { containerStatus, findContainer } from '../../runtime/containers.js';
import type { Command } from '../command.js';

export const containerExec: Command = {
  path: ['container', 'exec'],
  summary:
    "Run a command in a running container (its user, env and working directory); exit with the command's code",
  usage: 'container exec NAME -- CMD [ARGS...]',
  options: {},
  flags: [],
  args: [1, 1],
  async run(ctx, { positionals, passthrough }) {
    if (passthrough.length === 0) {
      throw new BerthError('ERR_USAGE', 'invalid', 'no command given', {
        hint: 'container exec NAME -- CMD',
      });
    }
    const rt = await ctx.runtime();
    const record = await findContainer(rt, positionals[0] as string);
    if ((await containerStatus(rt, record)).state !== 'running') {
      throw new BerthError(
        'ERR_CONTAINER_NOT_RUNNING',
        'conflict',
        `container "${record.name}" is not running`,
      );
    }
    return new Promise<number>((resolve, reject) => {
      const child = spawn(rt.runc.bin, ['--root', rt.runc.root, 'exec', record.id, ...passthrough], {
        stdio: ['inherit', 'pipe', 'pipe'],
      });
      child.stdout.pipe(ctx.stdout, { end: false });
      child.stderr.pipe(ctx.stderr, { end: false });
      child.once('error', (err) =>
        reject(
          new BerthError('ERR_RUNC', 'internal', `exec in ${record.name}: ${err.message}`, { cause: err }),
        ),
      );
      child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  },
};
