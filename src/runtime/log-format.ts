// Container logs in the CRI format conmon writes: `<RFC3339Nano time> <stdout|stderr> <F|P> <text>`
// per line, P marking a line cut into parts. A line's text is taken whole, `\r` included: a
// container with a terminal (tty) writes `\r\n` (the pty's ONLCR), and a pattern whose `.` stops
// at `\r` dropped every such line. Pure.

export interface LogLine {
  time: string;
  stream: 'stdout' | 'stderr';
  text: string;
  /** Text the container wrote without a newline after it, shown as it is once it has exited. */
  partial?: boolean;
}

/** Each stream's line under way: the parts (P records) so far, with the last part's time (a line's is its last record's). */
export type PendingParts = Partial<Record<LogLine['stream'], LogLine>>;

/**
 * Whole lines of `chunk` (a trailing cut record is returned as `rest`), partial records joined
 * per stream: stdout's parts never end up in a line of stderr.
 */
export function parseCriLog(
  chunk: string,
  pending: PendingParts = {},
): { lines: LogLine[]; rest: string; pending: PendingParts } {
  const lines: LogLine[] = [];
  const records = chunk.split('\n');
  const rest = records.pop() ?? '';
  const carry: PendingParts = { ...pending };
  for (const rec of records) {
    const m = /^(\S+) (stdout|stderr) ([FP]) ?(.*)$/s.exec(rec);
    if (!m) continue;
    const [, time, stream, tag, text] = m as unknown as [string, string, 'stdout' | 'stderr', string, string];
    const before = carry[stream];
    if (tag === 'P') {
      carry[stream] = { time, stream, text: (before?.text ?? '') + text };
      continue;
    }
    lines.push({ time, stream, text: (before?.text ?? '') + text });
    delete carry[stream];
  }
  return { lines, rest, pending: carry };
}

/** What is left of each stream's line under way, as partial lines (stdout first). */
export function partialLines(pending: PendingParts): LogLine[] {
  return (['stdout', 'stderr'] as const).flatMap((s) =>
    pending[s] ? [{ ...pending[s], partial: true }] : [],
  );
}
