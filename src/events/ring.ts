// The event ring: events as NDJSON lines in `<root>/events/`, in two files: `current.ndjson`, and
// `previous.ndjson` that it becomes once it passes half the ring's size. So the ring holds between
// half and all of `maxBytes` of the newest events, survives daemon restarts, and never grows.
//
// Invariants: `emit` never throws and never waits for a reader (a write that fails drops the event
// and counts it); each event is one append of one line, opened O_APPEND per event so that a CLI
// command and the daemon may both write; a line is at most MAX_LINE bytes (a long message is cut);
// a reader reads at most `maxBytes` and skips what does not parse (a torn line after a crash, bytes
// written by something else), so a damaged ring is never an error.
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { BerthEvent, BerthEventInput, EventSink } from './event.js';
import { type EventQuery, matchesEvent } from './filter.js';

export const DEFAULT_EVENTS_MAX_BYTES = 4 * 2 ** 20;
const MAX_LINE = 4096;
const MAX_MESSAGE = 1024;

export interface EventRing extends EventSink {
  /** The recorded events a query selects, oldest first. */
  read(q?: EventQuery): BerthEvent[];
  /** Each event emitted here from now on; returns the unsubscribe. */
  subscribe(listener: (e: BerthEvent) => void): () => void;
  /** Events that could not be recorded (disk full, a broken directory). */
  dropped(): number;
  /** Events recorded since this ring was opened. */
  emitted(): number;
}

export interface RingOptions {
  dir: string;
  maxBytes?: number;
  now: () => number;
}

/** Where a root's ring lives. */
export const eventRingDir = (root: string) => join(root, 'events');

function lineOf(e: BerthEvent): string {
  let line = JSON.stringify(e);
  if (Buffer.byteLength(line) > MAX_LINE) {
    const message = e.message?.slice(0, MAX_MESSAGE);
    line = JSON.stringify({ ...e, message, attributes: undefined });
    if (Buffer.byteLength(line) > MAX_LINE)
      line = JSON.stringify({
        ...e,
        object: e.object.slice(0, 512),
        message: message?.slice(0, 256),
        attributes: undefined,
      });
  }
  return `${line}\n`;
}

function isEvent(v: unknown): v is BerthEvent {
  const e = v as Partial<BerthEvent> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.time === 'string' &&
    typeof e.type === 'string' &&
    typeof e.object === 'string' &&
    typeof e.reason === 'string'
  );
}

/** The last `max` bytes of a file (from a line start), or '' when it is absent or not a file. */
function readTail(path: string, max: number): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return '';
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return '';
    const length = Math.min(st.size, max);
    const buf = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, st.size - length + got);
      if (n === 0) break;
      got += n;
    }
    const text = buf.subarray(0, got).toString('utf8');
    // Cut mid-line: the first, partial line is not an event.
    return length < st.size ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    closeSync(fd);
  }
}

export function openEventRing(o: RingOptions): EventRing {
  const maxBytes = Math.max(o.maxBytes ?? DEFAULT_EVENTS_MAX_BYTES, 2 * MAX_LINE);
  const half = Math.floor(maxBytes / 2);
  const current = join(o.dir, 'current.ndjson');
  const previous = join(o.dir, 'previous.ndjson');
  const listeners = new Set<(e: BerthEvent) => void>();
  let dropped = 0;
  let emitted = 0;
  let made = false;

  function append(line: string): void {
    if (!made) {
      mkdirSync(o.dir, { recursive: true, mode: 0o700 });
      made = true;
    }
    const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
    const fd = openSync(current, flags, 0o600);
    try {
      if (!fstatSync(fd).isFile()) throw new Error(`${current} is not a file`);
      writeSync(fd, line);
    } finally {
      closeSync(fd);
    }
    // Another writer may have rotated meanwhile: the size is the path's, not this descriptor's.
    if (statSync(current).size >= half) renameSync(current, previous);
  }

  return {
    emit(input: BerthEventInput) {
      const e: BerthEvent = { time: new Date(o.now()).toISOString(), ...input };
      try {
        append(lineOf(e));
        emitted++;
      } catch {
        dropped++;
      }
      for (const listener of listeners) {
        try {
          listener(e);
        } catch {
          // a reader's failure is its own
        }
      }
    },
    read(q: EventQuery = {}) {
      const out: BerthEvent[] = [];
      for (const path of [previous, current]) {
        for (const line of readTail(path, half + MAX_LINE).split('\n')) {
          if (!line) continue;
          let v: unknown;
          try {
            v = JSON.parse(line);
          } catch {
            continue;
          }
          if (isEvent(v) && matchesEvent(v, q)) out.push(v);
        }
      }
      return out;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dropped: () => dropped,
    emitted: () => emitted,
  };
}
