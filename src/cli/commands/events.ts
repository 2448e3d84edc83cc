// `berth events`: what berth did and saw, from the event ring. With a daemon serving --state and
// no --until it then follows new events as `docker events` does (until interrupted); otherwise
// it prints what the ring holds and exits. `--output json` prints one JSON object per line.
import { socketPath } from '../../api/client.js';
import { followDaemon } from '../../api/stream-client.js';
import type { BerthEvent } from '../../events/event.js';
import { type EventQuery, eventQueryParams, parseEventFilters, parseEventTime } from '../../events/filter.js';
import { printable } from '../../lib/printable.js';
import type { Command } from '../command.js';

/** `2026-11-30T20:01:02.345Z  container  default/web/app  Died  exited with code 1` */
export function formatEventLine(e: BerthEvent): string {
  return printable(
    `${e.time}  ${e.type}  ${e.object}  ${e.reason}${e.message ? `  ${e.message}` : ''}`.replace(
      /[\r\n]/g,
      ' ',
    ),
  );
}

export const eventsCommand: Command = {
  path: ['events'],
  summary:
    'What berth did and saw (actions, container exits, pulls, rejected manifests), from the event ring',
  usage: 'events [--since T] [--until T] [--filter KEY=VALUE]...',
  options: {
    since: { type: 'string' },
    until: { type: 'string' },
    filter: { type: 'string', multiple: true },
  },
  flags: [
    ['--since T', 'events at or after T: a duration back from now (10m, 1h30m) or an RFC 3339 time'],
    ['--until T', "events at or before T; without it, a running daemon's new events follow"],
    ['--filter KEY=VALUE', 'pod, type, reason or object; repeat for more (same key: either value)'],
  ],
  args: [0, 0],
  async run(ctx, { values, global }) {
    const now = ctx.now().getTime();
    const q: EventQuery = {
      since: typeof values.since === 'string' ? parseEventTime(values.since, now, '--since') : undefined,
      until: typeof values.until === 'string' ? parseEventTime(values.until, now, '--until') : undefined,
      filters: parseEventFilters(Array.isArray(values.filter) ? values.filter.map(String) : []),
    };
    const print = (e: BerthEvent) =>
      ctx.stdout.write(`${global.output === 'json' ? JSON.stringify(e) : formatEventLine(e)}\n`);
    if (q.until === undefined) {
      const path = `/v1/events?${eventQueryParams(q)}`;
      const followed = await followDaemon(
        socketPath(ctx.flags.state),
        path,
        (line) => print(JSON.parse(line)),
        ctx.signal,
      );
      if (followed) return 0;
    }
    for (const e of (await ctx.events()).read(q)) print(e);
    return 0;
  },
};
