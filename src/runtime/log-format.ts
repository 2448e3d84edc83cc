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

/**
 * Each stream's line under way: the parts (P records) so far, as bytes (conmon cuts a long line at
 * its buffer's size, which can fall inside a UTF-8 character: decoded part by part, each half would
 * be a U+FFFD), with the last part's time (a line's is its last record's).
 */
export type PendingParts = Partial<Record<LogLine['stream'], { time: string; parts: Buffer[] }>>;

const RECORD = /^(\S+) (stdout|stderr) ([FP]) ?/;
const NEWLINE = 0x0a;

/**
 * Whole lines of `chunk` (a trailing cut record is returned as `rest`, its bytes as they are),
 * partial records joined per stream: stdout's parts never end up in a line of stderr. A line is
 * decoded once whole, so a character cut between two records, or between two reads, stays one.
 */
export function parseCriLog(
  chunk: string | Buffer,
  pending: PendingParts = {},
): { lines: LogLine[]; rest: Buffer; pending: PendingParts } {
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  const lines: LogLine[] = [];
  // The caller's lists copied once, never added to: `pending` stays as it was given.
  const carry: PendingParts = {};
  for (const stream of ['stdout', 'stderr'] as const) {
    const part = pending[stream];
    if (part) carry[stream] = { time: part.time, parts: [...part.parts] };
  }
  let at = 0;
  for (let nl = bytes.indexOf(NEWLINE, at); nl !== -1; at = nl + 1, nl = bytes.indexOf(NEWLINE, at)) {
    const rec = bytes.subarray(at, nl);
    // The header is ASCII: 80 bytes hold any time conmon writes, the stream and the tag.
    const m = RECORD.exec(rec.subarray(0, 80).toString('latin1'));
    if (!m) continue;
    const [head, time, stream, tag] = m as unknown as [string, string, 'stdout' | 'stderr', string];
    const text = rec.subarray(head.length);
    // A line's parts are joined once, when it ends: joined at each part, a 10 MiB line of 8 KiB
    // records copied gigabytes (quadratic).
    const parts = carry[stream]?.parts ?? [];
    if (tag === 'P') {
      parts.push(Buffer.from(text)); // its own copy: `chunk` may be reused
      carry[stream] = { time, parts };
      continue;
    }
    lines.push({
      time,
      stream,
      text: (parts.length ? Buffer.concat([...parts, text]) : text).toString('utf8'),
    });
    delete carry[stream];
  }
  return { lines, rest: Buffer.from(bytes.subarray(at)), pending: carry };
}

/** What is left of each stream's line under way, as partial lines (stdout first). */
export function partialLines(pending: PendingParts): LogLine[] {
  return (['stdout', 'stderr'] as const).flatMap((stream) => {
    const part = pending[stream];
    return part
      ? [{ time: part.time, stream, text: Buffer.concat(part.parts).toString('utf8'), partial: true }]
      : [];
  });
}
