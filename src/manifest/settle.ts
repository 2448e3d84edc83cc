// Files being written in place: `scp` and `cp` truncate a file and then write it, a tool may write
// it in several pieces, and a pass can read any state in between. A cut that falls between two
// documents parses cleanly and defines less, so taking it would remove pods; a new version that is
// longer (longer comments, a pod added) can be read cut at a size above the old one. The rule: a
// file changed (mtime) less than the settle time ago that, as read, drops a document its last good
// content defines (a Pod or Image by kind and name), has fewer documents, or is smaller than its
// last good content, or stops inside a line where its last good content ended with a newline, is in
// flux: its last good content stays applied and it is read again once it has been stable that long.
// A file that only adds or changes documents, is not smaller and ends its last line, is taken at once. (A cut inside a value of the last document of a longer read cannot be told from an
// edit by any rule short of holding every change.) A file gone from a watched folder is held the
// same way (the daemon's loads: `goneSettlesAt`): `git checkout`, rsync, an editor's save with a
// gap between removing and writing, a copy that deletes first, all leave the folder without it for a
// moment; its last good content stays applied until the folder itself has been still for the settle
// time (the folder's mtime: a deletion leaves no file to date), so a file put back unchanged
// meanwhile stops and starts nothing. A file that a process on this host still has open for
// writing (open-writers.ts: scp, cp, a slow writer between two pieces) is in flux too, whatever its
// text, and so is one that no whole look at /proc has yet cleared (the daemon's look goes on across
// its polls), for as long as it keeps changing within WRITER_HOLD_MS: a writer that holds it open
// longer without writing holds nothing. Pure: the clock is passed in, and the writer check (I/O) is
// asked only of a file changed within that time.
import type { ManifestDoc } from './kinds.js';
import type { WriterVerdict } from './open-writers.js';

/** How long a file in flux must stay unchanged before it is acted on. */
export const SETTLE_MS = 2000;

/** How long after its last change a file still open for writing is held. */
export const WRITER_HOLD_MS = 60_000;

/** How often a file held for its writer is looked at again (a close makes no event to wake for). */
export const WRITER_POLL_MS = 250;

/** What a file's content defines, for comparing a read with its last good content. */
export interface Defines {
  bytes: number;
  /** `Kind/name` of each document (a namespace is refused by the schema: names are host-wide). */
  keys: string[];
  /** Whether the text ends at the end of a line (a newline, or nothing at all). */
  endsLine?: boolean;
}

/** `endsLine` of a text. Pure. */
export const endsLine = (text: string) => text === '' || text.endsWith('\n');

export interface SettleInput {
  /** The file as read. */
  read: Defines;
  mtimeMs: number;
  /** Its last good content (none: nothing to hold on to). Keys empty when it no longer parses. */
  lastGood: Defines | undefined;
  now: number;
  settleMs: number;
  /**
   * Whether a process still has the file open for writing (asked only of a file changed a moment
   * ago): held unless 'none'.
   */
  writer?: () => WriterVerdict;
}

/** The kind and name a document is known by (duplicates and plans key it the same way). */
export function keyOf(doc: ManifestDoc): string {
  const ns = (doc.metadata as { namespace?: string }).namespace;
  return ns && ns !== 'default'
    ? `${doc.kind}/${ns}/${doc.metadata.name}`
    : `${doc.kind}/${doc.metadata.name}`;
}

/**
 * Whether `read` would lose something `last` defines, or looks cut: it stops inside a line where the
 * last good content ended with one (a writer's pieces end anywhere; editors and tools end a file with
 * a newline), which catches a cut inside a value (`value: secr`) that parses.
 */
function dropsAny(read: Defines, last: Defines): boolean {
  if (read.bytes < last.bytes || read.keys.length < last.keys.length) return true;
  if (last.endsLine === true && read.endsLine === false) return true;
  const now = new Set(read.keys);
  return last.keys.some((k) => !now.has(k));
}

/**
 * When the file may be read (ms epoch), or undefined when it may be read now. An mtime further in
 * the future than the settle time (a clock set back, a `touch -d`) says nothing about the file's
 * age: it is read now rather than held for as long as the clock says.
 */
export function settlesAt(i: SettleInput): number | undefined {
  if (i.mtimeMs > i.now + i.settleMs) return undefined;
  const at = i.mtimeMs + i.settleMs;
  if (i.lastGood !== undefined && dropsAny(i.read, i.lastGood) && at > i.now) return at;
  if (i.now - i.mtimeMs < WRITER_HOLD_MS && (i.writer?.() ?? 'none') !== 'none')
    return Math.min(i.now + WRITER_POLL_MS, i.mtimeMs + WRITER_HOLD_MS);
  return undefined;
}

/**
 * When a file gone from the folder may be taken as deleted (ms epoch), or undefined when now: the
 * folder's mtime plus the settle time (a folder mtime further in the future than that: now).
 */
export function goneSettlesAt(folderMtimeMs: number, now: number, settleMs: number): number | undefined {
  if (folderMtimeMs > now + settleMs) return undefined;
  const at = folderMtimeMs + settleMs;
  return at > now ? at : undefined;
}
