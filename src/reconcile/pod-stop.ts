// Stopping a pod's containers together, as the kubelet kills a pod: every stop starts at once, so
// the preStop hooks run side by side, all within the pod's one terminationGracePeriodSeconds; the
// stop signal goes to the containers of the first turn (the app containers) at once, and to those
// of each later turn (native sidecars, the last started first) once every container of the turns
// before has exited, with what is left of the grace period (at least 2 s, as the kubelet gives).
// A pod of four containers that ignore SIGTERM is stopped in one grace period, not four.
import { type HookDeps, stopWithPreStop } from './container-hooks.js';
import type { Action } from './plan-types.js';

export interface TurnedStop {
  /** The container's id or name. */
  id: string;
  /** Its place in the stop order: lower turns exit first; equal turns stop together. */
  turn: number;
  /** Its pod's grace period, counted from the start of the pod's stop. */
  graceSeconds: number;
}

/** Stop every container of `stops` in its turn; the first failure is thrown once all have ended. */
export async function stopInTurns(deps: HookDeps, stops: TurnedStop[]): Promise<void> {
  const turns = [...new Set(stops.map((s) => s.turn))].sort((a, b) => a - b);
  const all: Promise<unknown>[] = [];
  let before: Promise<void> = Promise.resolve();
  for (const t of turns) {
    const turn = before;
    const mine = stops
      .filter((s) => s.turn === t)
      .map((s) => stopWithPreStop(deps, s.id, s.graceSeconds, { turn }));
    // Each turn ends once all of its stops have (settled: a stop that failed holds no other back).
    before = Promise.allSettled(mine).then(() => undefined);
    all.push(...mine);
  }
  const failed = (await Promise.allSettled(all)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** A stop or remove of a pod's containers that has a turn. */
export type Turned = Extract<Action, { kind: 'remove' | 'stop' }>;

/** The stops with turns that follow one another from `list[i]` (none: an empty list). */
export function turnedFrom(list: Action[], i: number): Turned[] {
  const out: Turned[] = [];
  for (const a of list.slice(i)) {
    if ((a.kind !== 'remove' && a.kind !== 'stop') || a.turn === undefined) break;
    out.push(a);
  }
  return out;
}
