// A failure that repeats as fast as its cause fires (a full disk failing every log rotation, many a
// second) said once per window, not at every repeat: the first occurrence at once, then at most one
// line per `windowMs`, saying how many were held back. Keyed by the line with its digits taken out,
// so `hold.4764` and `hold.4765` count as one. Pure but for the clock passed in.

export interface RepeatLimiter {
  /** The line to write now, or undefined while it is held back. */
  admit(line: string): string | undefined;
}

export function createRepeatLimiter(windowMs: number, now: () => number = Date.now): RepeatLimiter {
  const seen = new Map<string, { at: number; held: number }>();
  return {
    admit(line) {
      const key = line.replace(/\d+/g, '#');
      const t = now();
      const last = seen.get(key);
      if (last && t - last.at < windowMs) {
        last.held++;
        return undefined;
      }
      for (const [k, v] of seen) if (t - v.at >= windowMs && v.held === 0) seen.delete(k); // bounded
      seen.set(key, { at: t, held: 0 });
      const held = last?.held ?? 0;
      return held > 0 ? `${line} (${held} more like it since the last said)` : line;
    },
  };
}
