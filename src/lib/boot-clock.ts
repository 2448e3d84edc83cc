// Wall-clock times that survive the wall clock jumping. An edge node without an RTC boots at 1970
// (or at a stale date) and NTP later moves its clock by years, forward or back; a time recorded as
// wall clock alone then says a start was decades ago, or years ahead. So a time that must be
// measured against later (a pod's first start) is stamped with this boot's id and the time since
// boot (CLOCK_BOOTTIME, /proc/uptime: monotonic, and counting suspend); within the same boot its
// age is measured on that clock and it is read back as `now - age`, whatever the wall clock did.
// Across a reboot only the wall clock is left. Pure but for `readBootStamp`.
import { readFileSync } from 'node:fs';
import { bootId } from './process.js';

export interface BootStamp {
  /** This boot's id (lib/process.ts). */
  boot: string;
  /** ms since boot. */
  uptimeMs: number;
}

/** This boot's id and the ms since it. */
export function readBootStamp(): BootStamp {
  const seconds = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return { boot: bootId(), uptimeMs: Math.round(seconds * 1000) };
}

/**
 * The wall-clock time `at` (ms epoch, stamped `stamp` when written) as the clock reads now: the
 * same boot: `now` less the time since boot elapsed since; else (another boot, no stamp) `at`.
 */
export function wallTimeNow(
  at: number,
  stamp: BootStamp | undefined,
  now: number,
  current: BootStamp,
): number {
  if (!stamp || stamp.boot !== current.boot || stamp.uptimeMs > current.uptimeMs) return at;
  return now - (current.uptimeMs - stamp.uptimeMs);
}

/** Whether `v` is a BootStamp (as read from a record). */
export function isBootStamp(v: unknown): v is BootStamp {
  const s = v as Partial<BootStamp> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.boot === 'string' &&
    typeof s.uptimeMs === 'number' &&
    Number.isFinite(s.uptimeMs)
  );
}
