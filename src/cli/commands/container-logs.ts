import { watchDirectories } from '../../lib/change-waker.js';
import { BerthError } from '../../lib/errors.js';
import { containerStatus, findContainer, type RuntimeDeps } from '../../runtime/containers.js';
import type { LogLine } from '../../runtime/log-format.js';
import { lookAtContainerLogs } from '../../runtime/log-look.js';
import { readLogHistory } from '../../runtime/log-read.js';
import { containerPaths } from '../../runtime/paths.js';
import type { ContainerRecord } from '../../runtime/record.js';
import type { Command, CommandContext } from '../command.js';

/** The options of every logs command (`container logs`, `logs`). */
export const LOG_OPTIONS = {
  follow: { type: 'boolean', short: 'f' },
  timestamps: { type: 'boolean' },
  tail: { type: 'string' },
} as const;
export const LOG_FLAGS: Array<[string, string]> = [
  ['-f, --follow', 'keep printing until the container exits'],
  ['--timestamps', 'prefix each line with its time'],
  ['--tail N', 'only the last N lines (across rotated files)'],
];

export const containerLogs: Command = {
  path: ['container', 'logs'],
  summary: "A container's output (stdout to stdout, stderr to stderr)",
  usage: 'container logs NAME [-f] [--timestamps] [--tail N]',
  options: LOG_OPTIONS,
  flags: LOG_FLAGS,
  args: [1, 1],
  async run(ctx, { positionals, values }) {
    await printLogs(ctx, positionals[0] as string, {
      follow: values.follow === true,
      timestamps: values.timestamps === true,
      tail: parseTail(values.tail),
    });
    return 0;
  },
};

/** A container's log, stdout lines to stdout and stderr lines to stderr; `follow` until it exits. */
export async function printLogs(
  ctx: CommandContext,
  name: string,
  options: { follow: boolean; timestamps: boolean; tail?: number },
): Promise<void> {
  const rt = await ctx.runtime();
  await printRecordLogs(ctx, rt, await findContainer(rt, name), { ...options, untilExit: false });
}

/** How often a follow looks again when no change woke it (a missed event costs at most this). */
const FOLLOW_POLL_MS = 200;

/**
 * printLogs for a record in hand. A follow wakes at each write to the log and at the exit file
 * (inotify), so a line reaches the terminal as conmon writes it; `untilExit` keeps following
 * after an interrupt (`container run` stops the container and prints its last words).
 */
export async function printRecordLogs(
  ctx: Pick<CommandContext, 'stdout' | 'stderr' | 'signal'>,
  rt: RuntimeDeps,
  record: ContainerRecord,
  options: { follow: boolean; timestamps: boolean; tail?: number; untilExit: boolean },
): Promise<void> {
  const print = (lines: LogLine[]) => {
    for (const l of lines) {
      const out = l.stream === 'stderr' ? ctx.stderr : ctx.stdout;
      const end = l.partial ? '' : '\n';
      out.write(options.timestamps ? `${l.time} ${l.text}${end}` : `${l.text}${end}`);
    }
  };
  await followRecordLogs(rt, record, { ...options, emit: print, signal: ctx.signal });
}

export interface FollowOptions {
  follow: boolean;
  tail?: number;
  /** Follow on after `signal` aborts, until the container exits. */
  untilExit: boolean;
  /** Each batch of lines as it is read; the next read waits for the promise it returns. */
  emit(lines: LogLine[]): void | Promise<void>;
  signal: AbortSignal;
  /** Stop at once, whatever `untilExit` says (the daemon's reader went). */
  gone?: AbortSignal;
}

/** A container's log lines to `emit`, as printRecordLogs prints them. */
export async function followRecordLogs(
  rt: RuntimeDeps,
  record: ContainerRecord,
  options: FollowOptions,
): Promise<void> {
  await lookAtContainerLogs(rt, [record.id]); // a file conmon rotated away becomes .1
  const paths = containerPaths(rt.paths, record.id);
  const waker = options.follow ? watchDirectories([paths.dir, rt.paths.exits]) : undefined;
  const { lines, cursor } = await readLogHistory(paths.log, options.tail).catch((err: unknown) => {
    waker?.close();
    throw err;
  });
  try {
    await options.emit(lines);
    while (waker && !options.gone?.aborted && (options.untilExit || !options.signal.aborted)) {
      const state = (await containerStatus(rt, record)).state;
      await waker.next(FOLLOW_POLL_MS);
      await options.emit(await cursor.drain());
      if (state !== 'running' && state !== 'created') break;
    }
    // Its last words without a newline (printf hello), once nothing more can come.
    if (!options.gone?.aborted && (await containerStatus(rt, record)).state === 'exited')
      await options.emit(cursor.partial());
  } finally {
    waker?.close();
    await cursor.close();
  }
}

/** `--tail N`: a count of lines, 0 included; undefined when not given. */
export function parseTail(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (!/^[0-9]{1,9}$/.test(value)) {
    throw new BerthError('ERR_USAGE', 'invalid', `--tail must be a number of lines, not "${value}"`);
  }
  return Number(value);
}
