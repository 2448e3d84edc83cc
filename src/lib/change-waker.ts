// Waking a loop when something in a few directories changes (inotify, through fs.watch), with a
// timer as the floor: a change the watch misses (one that could not be set, an overflowed queue)
// costs at most one period, never a hang. A change between two waits is kept, not lost.
import { type FSWatcher, watch } from 'node:fs';

export interface ChangeWaker {
  /** At the first change since the last call (at once if one came in between), or after `ms`. */
  next(ms: number): Promise<void>;
  close(): void;
}

export function watchDirectories(dirs: readonly string[]): ChangeWaker {
  let changed = false;
  let wake: (() => void) | undefined;
  const onChange = () => {
    changed = true;
    wake?.();
  };
  const watchers: FSWatcher[] = [];
  for (const dir of dirs) {
    try {
      const w = watch(dir, { persistent: false }, onChange);
      w.on('error', () => undefined); // the timer still wakes the loop
      watchers.push(w);
    } catch {
      // Missing or unwatchable: the timer alone.
    }
  }
  return {
    next(ms) {
      if (changed) {
        changed = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          wake = undefined;
          changed = false;
          resolve();
        };
        const timer = setTimeout(done, ms);
        wake = done;
      });
    },
    close() {
      for (const w of watchers) w.close();
      wake?.();
    },
  };
}
