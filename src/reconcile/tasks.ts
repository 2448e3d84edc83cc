// The tasks that carry out plans: one per pod (its pulls, then its removes, creates and starts in
// order) and one per pull, which every pod needing that image joins. A pass starts tasks and never
// waits for them; a task's end says "look again" (`onSettled`), and its outcome waits here until
// the next pass records it (failures.ts).
//
// Invariants:
// - at most one task per key (`pod/<name>`, `image/<ref>`, as failures.ts keys them): the planner
//   sees a key in progress as a wait (`inFlight`), so no pass starts a second one;
// - a task never throws: what it did and what failed are reported as it goes;
// - `inFlight()` is taken before a pass observes the host, so a task that ends during the pass is
//   still a wait in that plan and its effects are seen by the next (no half-finished state planned).
import type { Action } from './plan-types.js';

export interface TaskOutcome {
  done: Action[];
  /** `alone`: an app container's own settings failed its run; the pod's other actions went on. */
  failed: Array<{ action: Action; error: unknown; alone?: true }>;
}

/** What a task's work reports. */
export interface TaskReport {
  /** What it is doing now (`pulling …`, `stopping web/main (grace 30 s)`). */
  doing(text: string): void;
  done(action: Action): void;
  failed(action: Action, error: unknown, alone?: boolean): void;
}

export interface Tasks {
  /** What each task in progress is doing, by key: the planner's `inFlight` input. */
  inFlight(): Map<string, string>;
  readonly size: number;
  /** Start `work` under `key` unless a task holds it; false when one did. */
  start(key: string, doing: string, work: (report: TaskReport) => Promise<boolean>): boolean;
  /** The result of the task under `key` (true: it succeeded); true when there is none. */
  join(key: string): Promise<boolean>;
  /** Whether a task started after the `started` count `mark` is still in progress. */
  runningSince(mark: number): boolean;
  /** How many tasks were started so far. */
  readonly started: number;
  /** The outcomes reported since the last drain. */
  drain(): TaskOutcome;
  /** Once every task in progress has ended. */
  idle(): Promise<void>;
}

interface Running {
  doing: string;
  seq: number;
  result: Promise<boolean>;
}

export function createTasks(o: { onSettled?(key: string): void } = {}): Tasks {
  const running = new Map<string, Running>();
  let outcome: TaskOutcome = { done: [], failed: [] };
  let started = 0;
  return {
    inFlight: () => new Map([...running].map(([key, r]) => [key, r.doing])),
    get size() {
      return running.size;
    },
    get started() {
      return started;
    },
    start(key, doing, work) {
      if (running.has(key)) return false;
      const entry: Running = { doing, seq: started++, result: Promise.resolve(false) };
      const report: TaskReport = {
        doing: (text) => {
          entry.doing = text;
        },
        done: (action) => {
          outcome.done.push(action);
        },
        failed: (action, error, alone) => {
          outcome.failed.push({ action, error, ...(alone ? { alone: true as const } : {}) });
        },
      };
      running.set(key, entry);
      entry.result = work(report)
        .catch((error: unknown) => {
          // A handler's bug, not an action's failure: reported against nothing would be lost.
          outcome.failed.push({
            action: { kind: 'wait', pod: key.replace(/^pod\//, ''), reason: `${key}: task failed` },
            error,
          });
          return false;
        })
        .finally(() => {
          running.delete(key);
          o.onSettled?.(key);
        });
      return true;
    },
    join: (key) => running.get(key)?.result ?? Promise.resolve(true),
    runningSince: (mark) => [...running.values()].some((r) => r.seq >= mark),
    drain() {
      const out = outcome;
      outcome = { done: [], failed: [] };
      return out;
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running.values()].map((r) => r.result));
    },
  };
}
