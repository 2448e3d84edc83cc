// Callers of `POST /v1/apply` (`berth apply` of the daemon's folder). Each asked for a pass now;
// it is answered once that pass and every task started since (by it or by the passes its tasks'
// ends brought) have ended, with what happened meanwhile: as a one-shot apply waits for what it
// started. Tasks older than the request (a pod stopping for an hour) are not waited for. Pure.
import type { ExecuteResult } from '../reconcile/execute.js';
import type { ApplyResult, PassResult } from '../reconcile/loop.js';

export interface ApplyCaller {
  resolve(result: ApplyResult): void;
  reject(err: unknown): void;
}

interface Active extends ApplyCaller {
  /** The tasks' start count when its first pass began: tasks from then on are its own. */
  mark: number;
  /** ms epoch: its failures from before are tried now, as a person asked. */
  at: number;
  passes: number;
  executed: ExecuteResult;
}

export interface ApplyWaiters {
  ask(caller: ApplyCaller): void;
  /** A pass begins: callers that asked join it. The time since when failures are retried now. */
  beginPass(mark: number, now: number): number | undefined;
  /** A pass ended: answer those whose tasks have all ended. */
  endPass(result: PassResult, runningSince: (mark: number) => boolean): void;
  /** A pass failed (an unreadable folder, say): its callers get the error. */
  failPass(err: unknown): void;
  rejectAll(err: unknown): void;
}

export function createApplyWaiters(): ApplyWaiters {
  let asked: ApplyCaller[] = [];
  let active: Active[] = [];
  return {
    ask(caller) {
      asked.push(caller);
    },
    beginPass(mark, now) {
      for (const c of asked)
        active.push({ ...c, mark, at: now, passes: 0, executed: { done: [], failed: [] } });
      asked = [];
      return active.length > 0 ? Math.min(...active.map((a) => a.at)) : undefined;
    },
    endPass(result, runningSince) {
      const left: Active[] = [];
      for (const a of active) {
        a.passes++;
        a.executed.done.push(...result.executed.done);
        a.executed.failed.push(...result.executed.failed);
        if (result.started.length > 0 || runningSince(a.mark)) left.push(a);
        else a.resolve({ ...result, passes: a.passes, executed: a.executed });
      }
      active = left;
    },
    failPass(err) {
      for (const a of active) a.reject(err);
      active = [];
    },
    rejectAll(err) {
      for (const c of [...asked, ...active]) c.reject(err);
      asked = [];
      active = [];
    },
  };
}
