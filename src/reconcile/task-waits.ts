// The waits of a pod's task: a sleep that ends when berth stops, and an init container's run to
// its exit (`berth apply` waits for each; the daemon's next pass follows its exit instead).
import { BerthError } from '../lib/errors.js';
import { containerStatus, findContainer, type RuntimeDeps } from '../runtime/containers.js';

/** What the waits need of the executor's dependencies. */
export interface WaitDeps {
  rt: RuntimeDeps;
  sleep?(ms: number): Promise<void>;
  /** Once aborted, every wait ends at once. */
  signal?: AbortSignal;
}

/** How long an init container may run before its pod's task gives up on it. */
const INIT_TIMEOUT_MS = 10 * 60_000;

/** A sleep that rejects once `signal` aborts: waits end at once when berth stops. */
export function pauseFor(deps: Omit<WaitDeps, 'rt'>): (ms: number) => Promise<void> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const { signal } = deps;
  if (!signal) return sleep;
  const interrupted = () =>
    new BerthError('ERR_INTERRUPTED', 'unavailable', 'berth is stopping: the wait was cut short');
  return (ms) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(interrupted());
      const onAbort = () => reject(interrupted());
      signal.addEventListener('abort', onAbort, { once: true });
      sleep(ms).then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, reject);
    });
}

/**
 * Wait for init container `name` to exit 0 (a non-zero exit throws ERR_INIT_FAILED). `deadline` (ms
 * epoch, its pod's activeDeadlineSeconds): the wait ends there, no failure: the next pass stops it.
 */
export async function waitForExit(deps: WaitDeps, name: string, deadline?: number): Promise<void> {
  const sleep = pauseFor(deps);
  const until = Date.now() + INIT_TIMEOUT_MS;
  const record = await findContainer(deps.rt, name);
  for (;;) {
    if (deadline !== undefined && Date.now() >= deadline) return;
    const s = await containerStatus(deps.rt, record);
    if (s.state === 'exited') {
      if (s.exitCode === 0) return;
      // No code: it ended with no conmon left to record one (killed), as a container lost with the host.
      const how =
        s.exitCode === null ? 'ended with no exit code (its conmon was killed)' : `exited ${s.exitCode}`;
      throw new BerthError('ERR_INIT_FAILED', 'internal', `init container ${name} ${how}`);
    }
    if (Date.now() > until)
      throw new BerthError('ERR_TIMEOUT', 'unavailable', `init container ${name} still runs`);
    await sleep(100);
  }
}
