// `GET /v1/events?since=&until=&filter=pod%3Dweb`: the recorded events a query selects, as NDJSON,
// then each new one as it is emitted, until `until` passes, the client goes or the daemon stops.
// A client that does not read is cut off once its backlog passes MAX_BACKLOG lines, so no reader
// holds the daemon's memory.

import { eventQueryOf, matchesEvent } from '../events/filter.js';
import type { EventRing } from '../events/ring.js';
import { setLongTimeout } from '../lib/long-timeout.js';
import { StreamResponse } from './responses.js';
import type { Route } from './server.js';

const MAX_BACKLOG = 10_000;

export function eventsRoute(ring: EventRing, now: () => number): Route {
  return async ({ query, signal }) => {
    const q = eventQueryOf(query, now()); // a bad query is a 400 before anything is sent
    return new StreamResponse('application/x-ndjson', (write, stop) => {
      let backlog = 0;
      const send = (line: string) => {
        if (write(line)) backlog = 0;
        else backlog++;
      };
      // read() and emit() are synchronous: nothing is emitted between the history and the subscription.
      for (const e of ring.read(q)) send(`${JSON.stringify(e)}\n`);
      const left = q.until === undefined ? Infinity : q.until - now();
      if (left < 0 || stop.aborted || backlog > MAX_BACKLOG) return Promise.resolve();
      return new Promise<void>((resolve) => {
        // An `until` weeks ahead may pass setTimeout's 24.8 days.
        const timer = left === Infinity ? undefined : setLongTimeout(end, left + 1);
        const unsubscribe = ring.subscribe((e) => {
          if (!matchesEvent(e, { ...q, since: undefined })) return;
          send(`${JSON.stringify(e)}\n`);
          if (backlog > MAX_BACKLOG) end();
        });
        function end() {
          timer?.clear();
          unsubscribe();
          stop.removeEventListener('abort', end);
          signal.removeEventListener('abort', end);
          resolve();
        }
        stop.addEventListener('abort', end, { once: true });
        signal.addEventListener('abort', end, { once: true });
      });
    });
  };
}
