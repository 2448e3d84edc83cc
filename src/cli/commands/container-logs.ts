import { open } from 'node:fs/promises';
import { errnoCode } from '../../lib/errors.js';
import { containerStatus, findContainer } from '../../runtime/containers.js';
import { parseCriLog } from '../../runtime/log-format.js';
import { containerPaths } from '../../runtime/paths.js';
import type { Command, CommandContext } from '../command.js';

/** The options of every logs command (`container logs`, `logs`). */
export const LOG_OPTIONS = {
  follow: { type: 'boolean', short: 'f' },
  timestamps: { type: 'boolean' },
} as const;
export const LOG_FLAGS: Array<[string, string]> = [
  ['-f, --follow', 'keep printing until the container exits'],
  ['--timestamps', 'prefix each line with its time'],
];

export const containerLogs: Command = {
  path: ['container', 'logs'],
  summary: "A container's output (stdout to stdout, stderr to stderr)",
  usage: 'container logs NAME [-f] [--timestamps]',
  options: LOG_OPTIONS,
  flags: LOG_FLAGS,
  args: [1, 1],
  async run(ctx, { positionals, values }) {
    await printLogs(ctx, positionals[0] as string, {
      follow: values.follow === true,
      timestamps: values.timestamps === true,
    });
    return 0;
  },
};

/** A container's log, stdout lines to stdout and stderr lines to stderr; `follow` until it exits. */
export async function printLogs(
  ctx: CommandContext,
  name: string,
  options: { follow: boolean; timestamps: boolean },
): Promise<void> {
  const rt = await ctx.runtime();
  const record = await findContainer(rt, name);
  const file = containerPaths(rt.paths, record.id).log;
  let offset = 0;
  let rest = '';
  let pending = '';
  const drain = async (): Promise<void> => {
    let h: Awaited<ReturnType<typeof open>>;
    try {
      h = await open(file, 'r');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    try {
      const { size } = await h.stat();
      if (size < offset) offset = 0; // rotated
      if (size === offset) return;
      const buf = Buffer.alloc(size - offset);
      await h.read(buf, 0, buf.length, offset);
      offset = size;
      const parsed = parseCriLog(rest + buf.toString('utf8'), pending);
      rest = parsed.rest;
      pending = parsed.pending;
      for (const l of parsed.lines) {
        const out = l.stream === 'stderr' ? ctx.stderr : ctx.stdout;
        out.write(options.timestamps ? `${l.time} ${l.text}\n` : `${l.text}\n`);
      }
    } finally {
      await h.close();
    }
  };
  await drain();
  while (options.follow && !ctx.signal.aborted) {
    const state = (await containerStatus(rt, record)).state;
    await new Promise((r) => setTimeout(r, 200));
    await drain();
    if (state !== 'running' && state !== 'created') break;
  }
}
