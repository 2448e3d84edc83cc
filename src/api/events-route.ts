// `GET /v1/events?since=&until=&filter=pod%3Dweb`: the recorded events a query selects, as NDJSON,
// then each new one as it is emitted, until `until` passes, the client goes or the daemon stops.
// The history goes out in chunks, each once the client has read the one before, so it is never
// all queued at once; a client that does not read is cut off by the stream's bounds (responses.ts),
// and one that reads its history so slowly that the events emitted meanwhile pass those bounds is
// ended with ERR_API_FOLLOWER_BEHIND as its last line (responses.ts: endLineOf).

import type { BerthEvent } from '../events/event.js';
import { eventQueryOf, matchesEvent } from '../events/filter.js';
import type { EventRing } from '../events/ring.js';
import { BerthError } from '../lib/errors.js';
import { setLongTimeout } from '../lib/long-timeout.js';
import { endLineOf, StreamResponse, type StreamWriter } from './responses.js';
import type { Route } from './server.js';

/** History is sent this many bytes at a time (about: whole lines). */
const HISTORY_CHUNK = 64 * 1024;

const lineOf = (e: BerthEvent) => `${JSON.stringify(e)}\n`;

/**
 * `work` in its own turn of the event loop, after the work queued before it: the history reads of
 * many followers at once (each parses the ring) take turns with everything else the daemon does
 * instead of holding it for all of them together.
 */
function oneAtATime(): <T>(work: () => T) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return (work) => {
    const next = last.then(() => new Promise<void>((r) => setImmediate(r))).then(work);
    last = next.catch(() => undefined);
    return next;
  };
}

/** The follower fell behind: `max` bytes of new events waited while it read its history. */
const followerBehind = (max: number) =>
  new BerthError(
    'ERR_API_FOLLOWER_BEHIND',
    'limit',
    `over ${max} bytes of new events waited while the follower read its history`,
    { hint: 'follow again with a later --since, or fewer events with --filter' },
  );

/**
 * `lines` to the client, HISTORY_CHUNK at a time, each once the one before was read, not held once
 * sent. False when the client went or was cut off; stops early (true) once `stop()` says so.
 */
async function sendLines(out: StreamWriter, lines: string[], stop: () => boolean): Promise<boolean> {
  for (let i = 0; i < lines.length && !stop(); ) {
    let chunk = '';
    while (i < lines.length && chunk.length < HISTORY_CHUNK) {
      chunk += lines[i];
      lines[i++] = ''; // sent: not held while the client reads
    }
    if (!out.write(chunk) || !(await out.drained())) return false;
  }
  return true;
}

export function eventsRoute(ring: EventRing, now: () => number): Route {
  const inTurn = oneAtATime();
  return async ({ query, signal }) => {
    const q = eventQueryOf(query, now()); // a bad query is a 400 before anything is sent
    const liveQuery = { ...q, since: undefined };
    return new StreamResponse('application/x-ndjson', async (out, stop) => {
      const gone = () => stop.aborted || signal.aborted;
      let following = false;
      let end: () => void = () => undefined;
      const history: string[] = [];
      // Events emitted while the history is being sent wait behind it, at most as many bytes as the
      // client may leave unread: a follower that reads slowly but steadily trips no bound of the
      // stream's, and past this one is ended with the reason as its last line.
      const live: string[] = [];
      let liveBytes = 0;
      let behind = false;
      // read() and subscribe() together in one turn: nothing is emitted between the history and the
      // subscription.
      const unsubscribe = await inTurn(() => {
        if (gone()) return () => undefined;
        for (const e of ring.read(q)) history.push(lineOf(e));
        return ring.subscribe((e) => {
          if (!matchesEvent(e, liveQuery)) return;
          if (following) {
            if (!out.write(lineOf(e))) end();
          } else if (!behind) {
            const line = lineOf(e);
            liveBytes += line.length;
            if (liveBytes <= out.maxUnreadBytes) live.push(line);
            else {
              behind = true;
              live.length = 0;
            }
          }
        });
      });
      try {
        if (!(await sendLines(out, history, () => behind))) return;
        while (live.length > 0 && !behind) {
          const batch = live.splice(0);
          liveBytes = 0;
          if (!(await sendLines(out, batch, () => behind))) return;
        }
        if (behind) {
          out.write(endLineOf(followerBehind(out.maxUnreadBytes)));
          return;
        }
        following = true;
        const left = q.until === undefined ? Infinity : q.until - now();
        if (left < 0 || gone()) return;
        await new Promise<void>((resolve) => {
          // An `until` weeks ahead may pass setTimeout's 24.8 days.
          const timer = left === Infinity ? undefined : setLongTimeout(() => end(), left + 1);
          end = () => {
            timer?.clear();
            stop.removeEventListener('abort', end);
            signal.removeEventListener('abort', end);
            resolve();
          };
          stop.addEventListener('abort', end, { once: true });
          signal.addEventListener('abort', end, { once: true });
        });
      } finally {
        unsubscribe();
      }
    });
  };
}
