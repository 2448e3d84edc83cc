// Pass scheduling, pure of I/O: triggers arriving during a pass coalesce into one more pass; the
// earliest of the debounce after a trigger, a back-off's end and the resync interval is when the
// next pass is due. Each pass is also told what it must observe (observe-scope.ts): the manifest
// files and pods its triggers named, or everything.
//
// Invariants: a pass observes everything when it is the first, when any of its triggers has no
// known scope (a container's exit, the folder itself swapped, a readiness change, an image
// imported), when a back-off's end or `POST /v1/apply` woke it (a wake naming what it is for, a
// manifest file still being written, observes that alone), when the pass before it failed, and
// when the last pass that observed everything started `resyncMs` ago or more. So whatever changed
// without a trigger naming it is seen at most `resyncMs` after the last full pass started (plus
// that pass's own run time), however many scoped passes ran meanwhile, and at once when the wall
// clock is found earlier than that start (an NTP step back would otherwise hold the resync for
// the length of the step).

/** What a trigger says changed: manifest files (absolute paths) and pods by name. */
export interface TriggerScope {
  files?: readonly string[];
  pods?: readonly string[];
}

import type { PassScope } from '../reconcile/observe-scope.js';

export type { PassScope } from '../reconcile/observe-scope.js';

export class PassScheduler {
  private dirtySince: number | undefined;
  private wakeTime: number | undefined;
  /** Wakes that name what they are for: due, they are triggers of that scope. */
  private scopedWakes: Array<{ at: number; scope: TriggerScope }> = [];
  /** When the last pass that observed everything started. */
  private lastFull = 0;
  /** The next pass observes everything (the first, or the one after a failed pass). */
  private fullNext = true;
  /** What the triggers since the last pass named; 'all' once one named nothing. */
  private pending: 'all' | { files: Set<string>; pods: Set<string> } | undefined;

  constructor(
    private readonly debounceMs: number,
    private readonly resyncMs: number,
  ) {}

  /** Something changed: a pass after the debounce, so a burst of events makes one pass. */
  trigger(now: number, scope?: TriggerScope): void {
    this.dirtySince ??= now;
    this.merge(scope);
  }

  private merge(scope: TriggerScope | undefined): void {
    if (scope === undefined) this.pending = 'all';
    else if (this.pending !== 'all') {
      this.pending ??= { files: new Set(), pods: new Set() };
      for (const f of scope.files ?? []) this.pending.files.add(f);
      for (const p of scope.pods ?? []) this.pending.pods.add(p);
    }
  }

  /**
   * Look again at `at` (when a back-off ends, or a person asked): everything is observed then, or
   * only `scope` when the wake names it.
   */
  wakeAt(at: number, scope?: TriggerScope): void {
    if (scope) this.scopedWakes.push({ at, scope });
    else this.wakeTime = this.wakeTime === undefined ? at : Math.min(this.wakeTime, at);
  }

  /** A pass starts now: what it must observe. */
  passStarted(now: number): PassScope {
    const due = this.scopedWakes.filter((w) => w.at <= now);
    this.scopedWakes = this.scopedWakes.filter((w) => w.at > now);
    for (const w of due) this.merge(w.scope);
    const full =
      this.fullNext ||
      now >= this.lastFull + this.resyncMs ||
      now < this.lastFull || // the wall clock stepped back: the resync must not wait out the step
      (this.wakeTime !== undefined && this.wakeTime <= now) ||
      this.pending === undefined || // due for no reason a trigger named: look at everything
      this.pending === 'all';
    const scope: PassScope = full ? 'all' : (this.pending as Exclude<typeof this.pending, 'all' | undefined>);
    if (full) this.lastFull = now;
    this.fullNext = false;
    this.dirtySince = undefined;
    this.wakeTime = undefined;
    this.pending = undefined;
    return scope;
  }

  /** The pass failed: the next one (due as before) observes everything. */
  passFailed(): void {
    this.fullNext = true;
  }

  /** When the next pass is due; given `now`, a wall clock stepped back below the last full pass makes it now. */
  dueAt(now?: number): number {
    const due = [now !== undefined && now < this.lastFull ? now : this.lastFull + this.resyncMs];
    if (this.dirtySince !== undefined) due.push(this.dirtySince + this.debounceMs);
    if (this.wakeTime !== undefined) due.push(this.wakeTime);
    for (const w of this.scopedWakes) due.push(w.at);
    return Math.min(...due);
  }
}
