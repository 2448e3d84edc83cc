// container start, stop, kill and rm: one name each (or several for rm), state read live from runc.
import { killContainer, removeContainer, startContainer, stopContainer } from '../../runtime/containers.js';
import { parseCount } from '../../runtime/quantity.js';
import { withSpawnHelper } from '../../runtime/spawn-helper-use.js';
import type { Command } from '../command.js';
import { renderJson } from '../output.js';

export const containerStart: Command = {
  path: ['container', 'start'],
  summary: 'Start a created container',
  usage: 'container start NAME',
  options: {},
  flags: [],
  args: [1, 1],
  async run(ctx, { positionals }) {
    const status = await startContainer(await ctx.runtime(), positionals[0] as string);
    if (ctx.flags.output === 'json') ctx.stdout.write(renderJson(status));
    else ctx.stdout.write(`${status.name} ${status.state} (pid ${status.pid ?? '-'})\n`);
    return 0;
  },
};

/** `--time S`: seconds between the stop signal and SIGKILL (10 when not given). */
export function graceSeconds(value: unknown): number {
  if (typeof value !== 'string') return 10;
  return value === '0' ? 0 : parseCount(value, '--time');
}

export const containerStop: Command = {
  path: ['container', 'stop'],
  summary: "Stop a container: its image's StopSignal, then SIGKILL after the grace period",
  usage: 'container stop NAME [--time S]',
  options: { time: { type: 'string', short: 't' } },
  flags: [['-t, --time S', 'seconds to wait before SIGKILL (default 10)']],
  args: [1, 1],
  async run(ctx, { positionals, values }) {
    const status = await stopContainer(
      await ctx.runtime(),
      positionals[0] as string,
      graceSeconds(values.time),
    );
    if (ctx.flags.output === 'json') ctx.stdout.write(renderJson(status));
    else ctx.stdout.write(`${status.name} ${status.state} (exit code ${status.exitCode ?? '-'})\n`);
    return 0;
  },
};

export const containerRm: Command = {
  path: ['container', 'rm'],
  summary: 'Remove containers: runc state, rootfs, network namespace, bundle (named volumes stay)',
  usage: 'container rm NAME... [--force]',
  options: { force: { type: 'boolean', short: 'f' } },
  flags: [['-f, --force', 'kill a running container first']],
  args: [1, Number.POSITIVE_INFINITY],
  async run(ctx, { positionals, values }) {
    // Its tools (runc, umount, iptables-restore, ip) through a spawn helper: each fork of Node
    // holds its thread while its page tables are copied (spawn-helper-use.ts).
    await withSpawnHelper(async () => {
      const rt = await ctx.runtime();
      for (const name of positionals) await removeContainer(rt, name, values.force === true);
    });
    if (ctx.flags.output === 'json') ctx.stdout.write(renderJson({ removed: positionals }));
    else for (const name of positionals) ctx.stdout.write(`removed ${name}\n`);
    return 0;
  },
};

export const containerKill: Command = {
  path: ['container', 'kill'],
  summary: 'Send a signal to a container (SIGKILL unless told otherwise)',
  usage: 'container kill NAME [--signal SIG]',
  options: { signal: { type: 'string', short: 's' } },
  flags: [['-s, --signal SIG', 'the signal, by name or number (default SIGKILL)']],
  args: [1, 1],
  async run(ctx, { positionals, values }) {
    const signal = typeof values.signal === 'string' ? values.signal : 'SIGKILL';
    await killContainer(await ctx.runtime(), positionals[0] as string, signal);
    if (ctx.flags.output === 'json') ctx.stdout.write(renderJson({ name: positionals[0], signal }));
    else ctx.stdout.write(`sent ${signal} to ${positionals[0]}\n`);
    return 0;
  },
};
