// The names of a container's log files and how a rotation renames them. Pure.
//
// conmon (2.1.6, src/ctr_logging.c) writes `container.log`; when a write would take it past
// --log-size-max it opens `container.log.tmp` (O_TRUNC|O_CREAT, no O_EXCL) and renames it over
// `container.log`, which unlinks the old content: conmon keeps no rotated file. berth keeps them
// with hard links (log-rotation.ts), `container.log.hold.SEQ`: one to the live file, so its
// content stays reachable after conmon's rename, and one to an empty `container.log.tmp` that
// berth makes ahead ("armed"), which conmon then opens and renames into place as its next live
// file. At a look berth makes the held files conmon rotated away `.1`… (`.1` the newest; a higher
// SEQ is newer), shifts the others and drops what is past `maxFiles`.

const HOLD = '.hold.';

/** `container.log.N`, N ≥ 1. */
export function rotatedLogName(log: string, n: number): string {
  return `${log}.${n}`;
}

/** `container.log.hold.SEQ`: a hard link berth keeps to one of conmon's files. */
export function holdLogName(log: string, seq: number): string {
  return `${log}${HOLD}${seq}`;
}

/** The name conmon opens for its next live file. */
export function conmonTmpName(log: string): string {
  return `${log}.tmp`;
}

/** The SEQ of a directory entry named `<base>.hold.SEQ`, or undefined. */
export function parseHoldSeq(base: string, entry: string): number | undefined {
  if (!entry.startsWith(`${base}${HOLD}`)) return undefined;
  const tail = entry.slice(base.length + HOLD.length);
  return /^[1-9]\d{0,14}$/.test(tail) ? Number(tail) : undefined;
}

/** The N of a directory entry named `<base>.N` (N ≥ 1, no leading zero), or undefined. */
export function parseRotatedNumber(base: string, entry: string): number | undefined {
  if (!entry.startsWith(`${base}.`)) return undefined;
  const tail = entry.slice(base.length + 1);
  return /^[1-9]\d{0,5}$/.test(tail) ? Number(tail) : undefined;
}

export interface LogShift {
  /** Files to remove first (rotated ones past maxFiles). */
  remove: string[];
  /** Then these renames, in order: each target is free when its turn comes. */
  renames: Array<{ from: string; to: string }>;
}

/**
 * What moves where when `pending` (names of files conmon rotated away, newest first) become the
 * newest rotated files: the existing numbered files (any order, gaps allowed) keep their order
 * behind them and are numbered 1… without gaps; what falls past `maxFiles` is removed.
 */
export function planLogShift(
  log: string,
  numbered: readonly number[],
  pending: readonly string[],
  maxFiles: number,
): LogShift {
  const order = [...new Set(numbered)].sort((a, b) => a - b);
  const all: Array<number | string> = [...pending, ...order];
  const kept = all.slice(0, maxFiles);
  const name = (f: number | string) => (typeof f === 'string' ? f : rotatedLogName(log, f));
  const moves = kept.map((from, i) => ({ from, to: i + 1 })).filter((m) => m.from !== m.to);
  // A target must be free when its turn comes. Files numbered past their place move down, nearest
  // first; the gap-free run 1…m behind pending files moves up, the last first; pending files last,
  // the oldest first.
  const down = moves.filter((m) => typeof m.from === 'number' && m.from > m.to);
  const up = moves.filter((m) => typeof m.from === 'number' && m.from < m.to).reverse();
  const last = moves.filter((m) => typeof m.from === 'string').reverse();
  return {
    remove: all.slice(maxFiles).map(name),
    renames: [...down, ...up, ...last].map((m) => ({ from: name(m.from), to: rotatedLogName(log, m.to) })),
  };
}
