// What starts the next pass of a one-shot apply while its tasks are in progress: a task's end, a
// container's exit (conmon's exit files), the end of a back-off, or berth stopping. Events are
// counted, so one that arrives while a pass runs is not lost: `next` returns at once when anything
// happened since the mark taken before that pass observed the host. An exit no file will tell (its
// conmon was killed: runtime/exit-witness.ts) is found by a check `next` polls, so a wait for a
// container's completion never outlives the container.
import { watch } from 'node:fs';
import { setLongTimeout } from '../lib/long-timeout.js';
import { makeDirs } from '../lib/make-dirs.js';

/** A check polled while waiting: true once something happened that no event tells. */
export interface WakePoll {
  everyMs: number;
  happened(): Promise<boolean>;
}

export interface Wake {
  /** Something happened: look again. */
  bump(): void;
  /** The count of events so far, taken before a pass observes the host. */
  mark(): number;
  movedSince(mark: number): boolean;
  /** Once anything happened after `mark`, at `until` (ms epoch), once `poll` finds, or when `signal` aborts. */
  next(mark: number, until?: number, poll?: WakePoll): Promise<void>;
  close(): void;
}

export async function watchForWork(exits: string, signal?: AbortSignal): Promise<Wake> {
  let count = 0;
  let waiter: (() => void) | undefined;
  const bump = () => {
    count++;
    waiter?.();
  };
  await makeDirs(exits);
  const watcher = watch(exits, bump);
  return {
    bump,
    mark: () => count,
    movedSince: (mark) => count > mark,
    next: (mark, until, poll) =>
      new Promise<void>((resolve) => {
        if (count > mark || signal?.aborted) return resolve();
        // activeDeadlineSeconds may put `until` past setTimeout's 24.8 days.
        const timer = until === undefined ? undefined : setLongTimeout(done, until - Date.now());
        let ended = false;
        let polling: NodeJS.Timeout | undefined;
        const look = () => {
          polling = setTimeout(() => {
            poll?.happened().then(
              (yes) => (yes ? done() : ended || look()),
              () => done(), // a check that fails: the host is looked at again rather than waited on
            );
          }, poll?.everyMs);
        };
        if (poll) look();
        signal?.addEventListener('abort', done, { once: true });
        waiter = done;
        function done() {
          if (ended) return; // a poll that answers late must not end a later wait
          ended = true;
          clearTimeout(polling);
          timer?.clear();
          signal?.removeEventListener('abort', done);
          waiter = undefined;
          resolve();
        }
      }),
    close: () => watcher.close(),
  };
}
