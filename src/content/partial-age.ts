// How old a parked partial download is, when the wall clock cannot be trusted (pure: no I/O, no
// clock). An edge node without an RTC boots at 1970 and NTP later moves its clock by years, so a
// partial's mtime alone says it is decades old (deleted at the next prune, its resume progress
// lost) or years ahead (never expires). A partial is therefore stamped with the boot id and the
// time since boot (lib/boot-clock.ts) when parked, or when a prune first sees it: within that boot
// its age is the time since boot elapsed since, plus what was credited when stamped. A partial
// from another boot (or with no stamp) is credited its mtime age when that age is plausible (not
// ahead, not beyond IMPLAUSIBLE_AGE_MS), else nothing: it is aged from the first time this boot
// saw it.
import type { BootStamp } from '../lib/boot-clock.js';

export const PARTIAL_MAX_AGE_MS = 24 * 3600 * 1000;
/** A wall-clock age beyond this is a clock that jumped, not a partial's age. */
export const IMPLAUSIBLE_AGE_MS = 30 * 24 * 3600 * 1000;

export interface PartialStamp extends BootStamp {
  /** Age (ms) the partial already had when stamped. */
  creditMs: number;
}

export interface PartialJudgement {
  expired: boolean;
  /** A stamp to record (first sight in this boot), when the partial is kept. */
  stamp?: PartialStamp;
}

/** Whether a partial (mtime `mtimeMs`, its recorded stamp if any) has outlived `maxAgeMs`. */
export function judgePartial(o: {
  mtimeMs: number;
  stamp: PartialStamp | undefined;
  now: number;
  current: BootStamp;
  maxAgeMs: number;
}): PartialJudgement {
  const { stamp, current } = o;
  if (stamp && stamp.boot === current.boot && stamp.uptimeMs <= current.uptimeMs) {
    return { expired: stamp.creditMs + (current.uptimeMs - stamp.uptimeMs) > o.maxAgeMs };
  }
  const wallAge = o.now - o.mtimeMs;
  const creditMs = wallAge >= 0 && wallAge <= IMPLAUSIBLE_AGE_MS ? wallAge : 0;
  if (creditMs > o.maxAgeMs) return { expired: true };
  return { expired: false, stamp: { boot: current.boot, uptimeMs: current.uptimeMs, creditMs } };
}

/** Whether `v` is a PartialStamp (as read back from its file). */
export function isPartialStamp(v: unknown): v is PartialStamp {
  const s = v as Partial<PartialStamp> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.boot === 'string' &&
    typeof s.uptimeMs === 'number' &&
    Number.isFinite(s.uptimeMs) &&
    typeof s.creditMs === 'number' &&
    Number.isFinite(s.creditMs) &&
    s.creditMs >= 0
  );
}
