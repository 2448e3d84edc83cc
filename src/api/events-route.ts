// `GET /v1/events?since=&until=&filter=pod%3Dweb`: the recorded events a query selects, as NDJSON,
// then each new one as it is emitted, until `until` passes, the client goes or the daemon stops.
// The history goes out in chunks, each once the client has read the one before, so it is never
// all queued at once; a client that does not read is cut off by the stream's bounds (responses.ts).

import type { BerthEvent } from '../events/event.js';
import { eventQueryOf, matchesEvent } from '../events/filter.js';
import type { EventRing } from '../events/ring.js';
import { setLongTimeout } from '../lib/long-timeout.js';
import { StreamResponse } from './responses.js';
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

export function eventsRoute(ring: EventRing, now: () => number): Route {
  const inTurn = oneAtATime();
  return async ({ query, signal }) => {
    const q = eventQueryOf(query, now()); // a bad query is a 400 before anything is sent
    const live = { ...q, since: undefined };
    return new StreamResponse('application/x-ndjson', async (out, stop) => {
      const gone = () => stop.aborted || signal.aborted;
      let following = false;
      let end: () => void = () => undefined;
      const pending: string[] = [];
      // read() and subscribe() together in one turn: nothing is emitted between the history and the
      // subscription. Events emitted while the history is being sent queue behind it.
      const unsubscribe = await inTurn(() => {
        if (gone()) return () => undefined;
        for (const e of ring.read(q)) pending.push(lineOf(e));
        return ring.subscribe((e) => {
          if (!matchesEvent(e, live)) return;
          if (!following) pending.push(lineOf(e));
          else if (!out.write(lineOf(e))) end();
        });
      });
      try {
        for (let i = 0; i < pending.length; ) {
          let chunk = '';
          while (i < pending.length && chunk.length < HISTORY_CHUNK) {
            chunk += pending[i];
            pending[i++] = ''; // sent: not held while the client reads
          }
          if (!out.write(chunk) || !(await out.drained())) return;
        }
        pending.length = 0;
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
