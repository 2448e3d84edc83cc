// container run: create + start (the image pulled first when the store lacks it, as docker and
// podman do; by a daemon serving this root and config, warm: daemon-containers.ts), then (unless
// --detach) its output until it exits, and berth exits with the container's code (its own
// failures: 125, or 127 for a command the image lacks, as docker's and podman's); --rm removes it
// after. An interrupt stops the container (its StopSignal, --time, then SIGKILL) and waits for its
// end; a second one leaves it. A reader of its output that goes away (`| head -1`) stops it too.
import { BerthError } from '../../lib/errors.js';
import {
  type ContainerStatus,
  containerStatus,
  type RuntimeDeps,
  startCreated,
} from '../../runtime/containers.js';
import type { ContainerRecord } from '../../runtime/record.js';
import { withSpawnHelper } from '../../runtime/spawn-helper-use.js';
import type { Command, CommandContext } from '../command.js';
import { CREATE_FLAGS, settingsFromFlags } from '../create-flags.js';
import { createFlagsOf, RUN_OPTIONS } from '../create-options.js';
import { daemonContainers } from '../daemon-containers.js';
import { renderJson } from '../output.js';
import { imageMissing, RUN_FAILED, runFailureCode, STOP_MARGIN_MS } from '../run-exit-codes.js';
import { removeAfterRun, removeUnstarted, removingOnFailure, stopper } from '../run-steps.js';
import { graceSeconds } from './container-lifecycle.js';
import { printRecordLogs } from './container-logs.js';

export { COMMAND_NOT_FOUND, INTERRUPTED, RUN_FAILED, runFailureCode } from '../run-exit-codes.js';

export const containerRun: Command = {
  path: ['container', 'run'],
  summary:
    "Create and start a container, print its output until it exits, and exit with the container's code",
  usage: 'container run IMAGE NAME [create flags] [--rm] [-d] [-t S] [--pull POLICY] [-- CMD ARGS...]',
  options: RUN_OPTIONS,
  flags: [
    ['--rm', 'remove the container once it has exited (or failed to start)'],
    ['-d, --detach', 'print its name and id once it runs, and leave it running'],
    ['-t, --time S', 'on an interrupt: seconds between the stop signal and SIGKILL (default 10)'],
    [
      '--pull missing|always|never',
      'pull the image first: when it is not in the store (default), always, or never',
    ],
    ...CREATE_FLAGS,
  ],
  args: [2, 2],
  failureCode: runFailureCode,
  async run(ctx, { positionals, values, passthrough }) {
    const detach = values.detach === true;
    const remove = values.rm === true;
    if (detach && remove) {
      throw new BerthError(
        'ERR_USAGE',
        'invalid',
        '--rm and --detach together: no berth process is left to remove it',
        {
          hint: 'run it in the foreground, or berth container rm it later',
        },
      );
    }
    const grace = graceSeconds(values.time);
    const pull = pullPolicyOf(values.pull);
    // Set before any interrupt: the process leaves this long after the first one (wire-process.ts),
    // and the stop that the interrupt starts takes up to the grace period, then a SIGKILL.
    ctx.setStopTimeout?.(grace * 1000 + STOP_MARGIN_MS);
    const [image, name] = positionals as [string, string];
    // A daemon serving this root and config creates and starts it, warm (daemon-containers.ts).
    const request = { image, name, flags: createFlagsOf(values), command: passthrough };
    const daemon = await daemonContainers(ctx.flags, request);
    // Its tools through a spawn helper: a fork from Node costs more than the helper's
    // (spawn-helper-use.ts). With a daemon, what is left (a stop, --rm) is off the way to the output.
    return withSpawnHelper(async () => {
      const rt = await ctx.runtime();
      // Read here in both cases: a bad flag is said before any pull (the daemon reads them again).
      const settings = settingsFromFlags(name, values, passthrough, rt.paths.volumes);
      const create = daemon
        ? () => daemon.create()
        : async () => (await import('../../runtime/create.js')).createContainer(rt, image, settings);
      if (pull === 'always') await pullForRun(ctx, image);
      const record = await create().catch(async (err: unknown) => {
        if (pull !== 'missing' || !imageMissing(err)) throw err;
        await pullForRun(ctx, image);
        return create();
      });
      // Interrupted while it was pulled or created: it never starts.
      if (ctx.signal.aborted) await removeUnstarted(rt, record);
      const status = await removingOnFailure(rt, record, remove, () =>
        daemon ? daemon.start(record.id) : startCreated(rt, record),
      );
      if (detach) {
        if (ctx.flags.output === 'json') ctx.stdout.write(renderJson(status));
        else ctx.stdout.write(`${record.name} ${record.id}\n`);
        return 0;
      }
      // The foreground's stdout is the container's own: its result is berth's exit code.
      const ended = await removingOnFailure(rt, record, remove, () => followToExit(ctx, rt, record, grace));
      if (remove) await removeAfterRun(rt, record, (line) => ctx.stderr.write(`berth: ${line}\n`));
      return ended.exitCode ?? RUN_FAILED;
    }, !daemon);
  },
};

type PullPolicy = 'missing' | 'always' | 'never';

/** `--pull`: missing (the default), always or never. */
export function pullPolicyOf(value: unknown): PullPolicy {
  if (value === undefined) return 'missing';
  if (value === 'missing' || value === 'always' || value === 'never') return value;
  throw new BerthError(
    'ERR_USAGE',
    'invalid',
    `--pull must be missing, always or never, not "${String(value)}"`,
  );
}

/** The image pulled and unpacked as `image pull` does, its progress on stderr (stdout is the container's). */
async function pullForRun(ctx: CommandContext, image: string): Promise<void> {
  // Loaded only for a pull: the registry client is most of a CLI start's modules.
  const [{ createPuller }, { progressFor }] = await Promise.all([
    import('../puller.js'),
    import('../progress.js'),
  ]);
  const progress = progressFor(ctx);
  try {
    await createPuller(ctx)({
      image,
      unpack: true,
      ...(progress ? { onEvent: (e) => progress.onEvent(e) } : {}),
    });
  } finally {
    progress?.finish();
  }
}

/** Its output until it exits; an interrupt meanwhile stops it (and the output goes on to its end). */
async function followToExit(
  ctx: CommandContext,
  rt: RuntimeDeps,
  record: ContainerRecord,
  graceSeconds: number,
): Promise<ContainerStatus> {
  // A stop that fails is said at once; the output goes on until the container ends or berth leaves.
  const stops = stopper(rt, record, graceSeconds, (line) => ctx.stderr.write(`berth: ${line}\n`));
  const onAbort = () => stops.stop();
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener('abort', onAbort, { once: true });
  // `container run … | head -1`: the reader gone is an interrupt too (--rm still removes it).
  ctx.whenOutputCloses?.(() => {
    ctx.signal.removeEventListener('abort', onAbort);
    stops.stop();
  });
  try {
    await printRecordLogs(ctx, rt, record, { follow: true, timestamps: false, untilExit: true });
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await stops.settled(); // never left running under a helper about to stop
  }
  return containerStatus(rt, record);
}
