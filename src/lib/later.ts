// Work asked for now and done a little later, once for many asks: `ask()` schedules `run` after
// `delayMs` (0: after the caller's current step), asks made before that run starts share it, and
// an ask made while it runs schedules one more after it (so the last ask is always followed by a
// whole run). `settled()` starts a run still waiting out its delay at once and resolves once
// nothing is scheduled or running. A run that throws is reported to `onError` and ends nothing
// else. The pending run keeps the process alive (a one-shot command ends after it, not before).
export interface Later {
  ask(): void;
  settled(): Promise<void>;
}

export interface LaterOptions {
  delayMs?: number;
  onError?(err: unknown): void;
}

export function later(run: () => Promise<void>, o: LaterOptions = {}): Later {
  let start: (() => void) | undefined; // starts the scheduled run now (it has not started)
  let tail: Promise<void> = Promise.resolve(); // the last run scheduled
  return {
    ask() {
      if (start) return;
      let due: () => void = () => {};
      const waited = new Promise<void>((res) => {
        due = res;
      });
      const timer = setTimeout(due, o.delayMs ?? 0);
      start = () => {
        clearTimeout(timer);
        due();
      };
      tail = Promise.all([tail, waited])
        .then(() => {
          start = undefined;
          return run();
        })
        .catch((err) => o.onError?.(err));
    },
    async settled() {
      start?.();
      let seen: Promise<void>;
      do {
        seen = tail;
        await seen;
      } while (seen !== tail);
    },
  };
}
