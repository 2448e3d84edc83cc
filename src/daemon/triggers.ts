// Pass scheduling, pure of I/O: triggers arriving during a pass coalesce into one more pass; the
// earliest of the debounce after a trigger, a back-off's end and the resync interval is when the
// next pass is due.

export class PassScheduler {
  private dirtySince: number | undefined;
  private wakeTime: number | undefined;
  private lastPass = 0;

  constructor(
    private readonly debounceMs: number,
    private readonly resyncMs: number,
  ) {}

  /** Something changed: a pass after the debounce, so a burst of events makes one pass. */
  trigger(now: number): void {
    this.dirtySince ??= now;
  }

  /** Look again at `at` (when a back-off ends). */
  wakeAt(at: number): void {
    this.wakeTime = this.wakeTime === undefined ? at : Math.min(this.wakeTime, at);
  }

  passStarted(now: number): void {
    this.lastPass = now;
    this.dirtySince = undefined;
    this.wakeTime = undefined;
  }

  dueAt(): number {
    const due = [this.lastPass + this.resyncMs];
    if (this.dirtySince !== undefined) due.push(this.dirtySince + this.debounceMs);
    if (this.wakeTime !== undefined) due.push(this.wakeTime);
    return Math.min(...due);
  }
}
