// Per-pod tasks (tasks.ts) and the daemon's apply callers (waiters.ts): pure bookkeeping, with
// promises the test resolves by hand.
import { describe, expect, it } from 'vitest';
import { createApplyWaiters } from '../../src/daemon/waiters.js';
import type { PassResult } from '../../src/reconcile/loop.js';
import type { Action } from '../../src/reconcile/plan.js';
import { createTasks } from '../../src/reconcile/tasks.js';

const run = (pod: string): Action => ({
  kind: 'run',
  pod,
  container: 'main',
  restarts: 0,
  backoffMs: 0,
  waitForExit: false,
  reason: `${pod}/main: new container`,
});

function gate() {
  let open: (ok: boolean) => void = () => undefined;
  const promise = new Promise<boolean>((r) => {
    open = r;
  });
  return { promise, open };
}

describe('tasks', () => {
  it('one task per key; in flight with what it does; a pull joined by two pods runs once', async () => {
    const settled: string[] = [];
    const tasks = createTasks({ onSettled: (key) => settled.push(key) });
    const pull = gate();
    let pulls = 0;
    expect(
      tasks.start('image/x', 'being pulled (a/main, b/main)', () => {
        pulls++;
        return pull.promise;
      }),
    ).toBe(true);
    expect(tasks.start('image/x', 'again', async () => true)).toBe(false);
    const podTask = (pod: string) => async (report: Parameters<Parameters<typeof tasks.start>[2]>[0]) => {
      report.doing('pulling x');
      if (!(await tasks.join('image/x'))) return false;
      report.doing(`starting ${pod}/main`);
      report.done(run(pod));
      return true;
    };
    tasks.start('pod/a', 'pulling x', podTask('a'));
    tasks.start('pod/b', 'pulling x', podTask('b'));
    expect(tasks.inFlight()).toEqual(
      new Map([
        ['image/x', 'being pulled (a/main, b/main)'],
        ['pod/a', 'pulling x'],
        ['pod/b', 'pulling x'],
      ]),
    );
    expect([tasks.size, tasks.started, tasks.runningSince(1), tasks.runningSince(3)]).toEqual([
      3,
      3,
      true,
      false,
    ]);
    pull.open(true);
    await tasks.idle();
    expect(pulls).toBe(1);
    expect(settled).toEqual(['image/x', 'pod/a', 'pod/b']);
    expect(tasks.drain()).toEqual({ done: [run('a'), run('b')], failed: [] });
    expect(tasks.drain()).toEqual({ done: [], failed: [] });
    expect(tasks.inFlight()).toEqual(new Map());
  });

  it('a failed pull stops the pods that joined it without a failure of theirs', async () => {
    const tasks = createTasks();
    tasks.start('image/x', 'pulling', async (report) => {
      report.failed(
        { kind: 'pull', image: 'x', for: ['a/main'], reason: 'x: not in the store' },
        new Error('gone'),
      );
      return false;
    });
    tasks.start('pod/a', 'pulling x', async (report) => {
      if (!(await tasks.join('image/x'))) return false;
      report.done(run('a'));
      return true;
    });
    await tasks.idle();
    const out = tasks.drain();
    expect(out.done).toEqual([]);
    expect(out.failed.map((f) => f.action.kind)).toEqual(['pull']);
  });
});

describe('apply callers of the daemon', () => {
  const pass = (started: string[], done: Action[] = []): PassResult => ({
    diagnostics: [],
    passes: 1,
    executed: { done, failed: [] },
    remaining: [],
    failures: {},
    held: [],
    started,
  });

  it('answered once the tasks started since it asked have ended, with everything done meanwhile', async () => {
    // Real tasks, marked as the daemon marks them: a task older than the request (a pod stopping
    // for an hour) is not waited for; one its passes started is.
    const tasks = createTasks();
    const waiters = createApplyWaiters();
    const runningSince = (mark: number) => tasks.runningSince(mark);
    const answers: unknown[] = [];
    const old = gate();
    const a = gate();
    try {
      expect(tasks.start('pod/old', 'stopping old/main (grace 3600 s)', () => old.promise)).toBe(true);
      waiters.ask({ resolve: (r) => answers.push(r), reject: (e) => answers.push(e) });
      expect(waiters.beginPass(tasks.started, 1000)).toBe(1000); // retried from its own pass on
      // Its pass starts pod/a, which runs on after the pass.
      tasks.start('pod/a', 'starting a/main', async (report) => {
        const ok = await a.promise;
        report.done(run('a'));
        return ok;
      });
      waiters.endPass(pass(['pod/a']), runningSince);
      expect(answers).toEqual([]);
      // A pass that starts nothing while pod/a still runs: still waiting, for pod/a.
      expect(waiters.beginPass(tasks.started, 2000)).toBe(1000);
      waiters.endPass(pass([]), runningSince);
      expect(answers).toEqual([]);
      // pod/a ends; pod/old, older than the request, still runs: answered all the same.
      a.open(true);
      expect(await tasks.join('pod/a')).toBe(true);
      expect(waiters.beginPass(tasks.started, 3000)).toBe(1000);
      waiters.endPass(pass([], tasks.drain().done), runningSince);
      expect(tasks.inFlight()).toEqual(new Map([['pod/old', 'stopping old/main (grace 3600 s)']]));
      expect(answers).toEqual([{ ...pass([]), passes: 3, executed: { done: [run('a')], failed: [] } }]);
      expect(waiters.beginPass(tasks.started, 4000)).toBe(undefined);
    } finally {
      old.open(true);
      a.open(true);
      await tasks.idle();
    }
  });
});
