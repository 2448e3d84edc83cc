// Container logs in the CRI format conmon writes: `<RFC3339Nano time> <stdout|stderr> <F|P> <text>`
// per line, P marking a line cut into parts. A line's text is taken whole, `\r` included: a
// container with a terminal (tty) writes `\r\n` (the pty's ONLCR), and a pattern whose `.` stops
// at `\r` dropped every such line. Pure.

export interface LogLine {
  time: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** Whole lines of `chunk` (a trailing partial line is returned as `rest`), partial records joined. */
export function parseCriLog(
  chunk: string,
  pending = '',
): { lines: LogLine[]; rest: string; pending: string } {
  const lines: LogLine[] = [];
  const records = chunk.split('\n');
  const rest = records.pop() ?? '';
  let carry = pending;
  for (const rec of records) {
    const m = /^(\S+) (stdout|stderr) ([FP]) ?(.*)$/s.exec(rec);
    if (!m) continue;
    const [, time, stream, tag, text] = m as unknown as [string, string, 'stdout' | 'stderr', string, string];
    if (tag === 'P') {
      carry += text;
      continue;
    }
    lines.push({ time, stream, text: carry + text });
    carry = '';
  }
  return { lines, rest, pending: carry };
}
