// Files being written in place: `scp` and `cp` truncate a file and then write it, a tool may write
// it in several pieces, and a pass can read any state in between. A cut that falls between two
// documents parses cleanly and defines less, so taking it would remove pods. The rule: a file
// smaller than its last good content, changed (mtime) less than the settle time ago, is in flux; its
// last good content stays applied and it is read again once it has been stable that long. Pure:
// the clock is passed in.

/** How long a shrunk file must stay unchanged before it is acted on. */
export const SETTLE_MS = 2000;

export interface SettleInput {
  size: number;
  mtimeMs: number;
  /** Bytes of the file's last good content (none: nothing to hold on to). */
  lastGoodBytes: number | undefined;
  now: number;
  settleMs: number;
}

/**
 * When the file may be read (ms epoch), or undefined when it may be read now. An mtime further in
 * the future than the settle time (a clock set back, a `touch -d`) says nothing about the file's
 * age: it is read now rather than held for as long as the clock says.
 */
export function settlesAt(i: SettleInput): number | undefined {
  if (i.lastGoodBytes === undefined || i.size >= i.lastGoodBytes) return undefined;
  if (i.mtimeMs > i.now + i.settleMs) return undefined;
  const at = i.mtimeMs + i.settleMs;
  return at > i.now ? at : undefined;
}
