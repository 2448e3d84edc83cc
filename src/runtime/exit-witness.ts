// Who will tell that a running container has ended. conmon writes the exit code to `exits/<id>`
// when the container's process ends, and whoever waits for an exit wakes on that file
// (reconcile/wake.ts); a conmon that was killed (SIGKILL, the OOM killer, a cleanup that killed the
// pod's processes) never writes it, and its container, if it still runs, has nobody left to. So a
// wait for an exit watches a process too: the container's conmon while it lives (its exit file will
// come; its death is news), else the container's own process (no file will come: its end is the
// news). Each is judged by what it is, never by a pid alone: a conmon by the `--cid` of its argv
// (conmon-process.ts), a container's process by the start time runc recorded (runc-state.ts), so a
// reused pid never keeps a wait going, and a zombie counts as gone.
import { conmonOf, isConmonOf } from './conmon-process.js';
import { containerPaths, type RuntimePaths } from './paths.js';
import { readLiveState } from './runc-state.js';

export interface ExitWitness {
  id: string;
  /** `conmon`: it writes the exit file when the container ends; `process`: the container's own. */
  kind: 'conmon' | 'process';
  pid: number;
}

export interface WitnessDeps {
  paths: RuntimePaths;
  runc: { root: string };
}

/** The process whose end tells of container `id`'s end, or undefined when neither runs. */
export async function exitWitnessOf(deps: WitnessDeps, id: string): Promise<ExitWitness | undefined> {
  const conmon = conmonOf(containerPaths(deps.paths, id).conmonPidFile, id);
  if (conmon) return { id, kind: 'conmon', pid: conmon.pid };
  const pid = await runningPid(deps, id);
  return pid === undefined ? undefined : { id, kind: 'process', pid };
}

/** The pid of container `id`'s own process while runc says it has not stopped. */
async function runningPid(deps: WitnessDeps, id: string): Promise<number | undefined> {
  const live = await readLiveState(deps.runc.root, id);
  return live && live.state !== 'stopped' && live.pid !== null ? live.pid : undefined;
}

/** Whether witness `w` still runs (false: look at its container again). */
export async function isWitnessAlive(deps: WitnessDeps, w: ExitWitness): Promise<boolean> {
  if (w.kind === 'conmon') return isConmonOf(w.pid, w.id);
  return (await runningPid(deps, w.id)) === w.pid;
}

/**
 * Whether any of the containers `ids` has ended with no exit file to tell it: true at once when
 * one of them has no witness left, else once one of their witnesses (taken now) is gone. The
 * returned check is cheap (a few /proc reads each): meant to be polled.
 */
export async function exitsUntold(
  deps: WitnessDeps,
  ids: readonly string[],
): Promise<() => Promise<boolean>> {
  const witnesses = await Promise.all(ids.map((id) => exitWitnessOf(deps, id)));
  if (witnesses.some((w) => w === undefined)) return async () => true;
  const all = witnesses as ExitWitness[];
  return async () => {
    for (const w of all) if (!(await isWitnessAlive(deps, w))) return true;
    return false;
  };
}
