// The steps of `container run` around its container's start and end, the same whether the command
// does them (commands/container-run.ts) or the daemon does the whole run (container-run-route.ts).
import { BerthError, formatErrorLine } from '../lib/errors.js';
import { type RuntimeDeps, removeContainer, stopContainer } from '../runtime/containers.js';
import type { ContainerRecord } from '../runtime/record.js';

/** Interrupted before its start: the container is removed and the run ends with ERR_INTERRUPTED. */
export async function removeUnstarted(rt: RuntimeDeps, record: ContainerRecord): Promise<never> {
  await removeContainer(rt, record.id, true);
  throw new BerthError(
    'ERR_INTERRUPTED',
    'internal',
    `interrupted: container "${record.name}" was not started`,
  );
}

/** `work` (its start, its following); one that fails removes it with --rm, its error the one to show. */
export async function removingOnFailure<T>(
  rt: RuntimeDeps,
  record: ContainerRecord,
  remove: boolean,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (remove) await removeContainer(rt, record.id, true).catch(() => undefined);
    throw err;
  }
}

/** The stop an interrupt starts: its StopSignal, `grace` seconds, then SIGKILL; a stop that fails is said. */
export function stopper(
  rt: RuntimeDeps,
  record: ContainerRecord,
  grace: number,
  say: (line: string) => unknown,
) {
  let stopping: Promise<unknown> | undefined;
  return {
    stop() {
      stopping ??= stopContainer(rt, record.id, grace).catch((err: unknown) => say(formatErrorLine(err)));
    },
    get started() {
      return stopping !== undefined;
    },
    /** Waits for the stop under way, if any: never left running under a caller about to leave. */
    settled: () => Promise.resolve(stopping).then(() => undefined),
  };
}

/** --rm after its end: removed; a removal that fails is a warning (the container's code stands), left to `container rm`. */
export async function removeAfterRun(
  rt: RuntimeDeps,
  record: ContainerRecord,
  warn: (line: string) => unknown,
): Promise<boolean> {
  return removeContainer(rt, record.id, true).then(
    () => true,
    async (err: unknown) => {
      await warn(`warning: ${formatErrorLine(err)}`);
      return false;
    },
  );
}
