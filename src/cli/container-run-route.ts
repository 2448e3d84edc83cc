// The daemon's side of the thin `container run` (thin-run.ts): the whole run in one request, so the
// command loads none of the runtime's modules and the daemon, warm, does every step.
//   POST /v1/containers/run { image, name, flags, command, rm, time, served? } → NDJSON, one object a line:
//     {"run": TOKEN}                 the first line, before anything is made: the run's interrupt token
//     {"out": TEXT} / {"err": TEXT}  the container's output, as `container run` prints it
//     {"say": TEXT}                  a line for berth's stderr, after "berth: " (a stop or removal that failed)
//     {"exit": N | null}             the last line: the container's exit code (null: never recorded)
//   or, as the last line, {"error": {code, kind, message, hint?}}: berth's own failure, nothing left
//   behind that `container run` would not leave.
//   POST /v1/containers/run/interrupt { run: TOKEN } → { interrupted } — the command's first SIGINT or
//   SIGTERM (or its output's reader gone): before the start, the container is removed and the run
//   ends with ERR_INTERRUPTED; after, it is stopped (its StopSignal, `time` seconds, then SIGKILL)
//   and its last words follow. A client that goes mid-run leaves it as a killed command would.
// Nothing is made before the stream is admitted (stream-budget.ts): a refused run made nothing.
// `served` ({ root, config }, as `GET /v1/status` says them) is what the command would have compared
// in a status request first: a daemon serving another root or host config refuses the run before
// anything (409 ERR_DAEMON_SERVES_OTHER) and the command does it all itself, so it asks once, not
// twice. A daemon of before this field refuses it as an unknown field (400 ERR_API_BAD_BODY naming
// `served`): the command then asks `GET /v1/status` and sends the run without it (thin-run.ts).

import { randomUUID } from 'node:crypto';
import { endLineOf, StreamResponse, type StreamWriter } from '../api/responses.js';
import type { RouteRequest, Routes } from '../api/server.js';
import type { EventSink } from '../events/event.js';
import { BerthError, isBerthError } from '../lib/errors.js';
import { isObject } from '../oci/descriptor.js';
import { containerStatus, type RuntimeDeps, startCreated } from '../runtime/containers.js';
import type { LogLine } from '../runtime/log-format.js';
import { graceSeconds } from './commands/container-lifecycle.js';
import { followRecordLogs } from './commands/container-logs.js';
import { type CreateRequest, createRequestOf, createThroughApi } from './container-routes.js';
import { CREATE_OPTIONS } from './create-options.js';
import { removeAfterRun, removeUnstarted, removingOnFailure, stopper } from './run-steps.js';

/** What a daemon serves (`GET /v1/status`'s root and config; daemon-containers.ts's servedBy). */
export interface Served {
  root: string;
  config: string;
}

export interface RunRequest {
  create: CreateRequest;
  rm: boolean;
  /** Seconds from the stop signal to SIGKILL, on an interrupt. */
  grace: number;
}

const bad = (message: string) => new BerthError('ERR_API_BAD_BODY', 'invalid', message);

/** The run refused: this daemon serves another root or host config than the command's (`asked`). */
function servesOther(serves: Served, asked: Served): BerthError {
  return new BerthError(
    'ERR_DAEMON_SERVES_OTHER',
    'conflict',
    `this daemon serves root ${serves.root} and config ${serves.config}, not root ${asked.root} and config ${asked.config}`,
    { hint: 'the command runs the container itself, as with no daemon' },
  );
}

/**
 * A run request's body: a create request's fields, and `rm` and `time` as the command gives them.
 * `served`, when given, is checked first against what this daemon `serves`: another's is refused.
 */
export function runRequestOf(body: unknown, serves: Served): RunRequest {
  if (!isObject(body))
    throw bad('the body must be a JSON object { image, name, flags, command, rm, time, served }');
  const { rm, time, served, ...create } = body;
  if (served !== undefined) {
    if (!isObject(served) || typeof served.root !== 'string' || typeof served.config !== 'string')
      throw bad('served must be an object { root, config } of strings');
    if (served.root !== serves.root || served.config !== serves.config)
      throw servesOther(serves, { root: served.root, config: served.config });
  }
  if (rm !== undefined && typeof rm !== 'boolean') throw bad('rm must be true or false');
  if (time !== undefined && typeof time !== 'string') throw bad('time must be a string');
  return { create: createRequestOf(create, CREATE_OPTIONS), rm: rm === true, grace: graceSeconds(time) };
}

/** Output is sent in pieces of about this many bytes, each read by the client before the next. */
const PIECE_BYTES = 64 * 1024;

/** Its lines as NDJSON objects, a stream's consecutive lines in one. */
function linesText(lines: LogLine[]): string[] {
  const pieces: string[] = [];
  let stream: LogLine['stream'] | undefined;
  let text = '';
  const flush = () => {
    if (stream && text)
      pieces.push(`${JSON.stringify(stream === 'stderr' ? { err: text } : { out: text })}\n`);
    text = '';
  };
  for (const l of lines) {
    if (l.stream !== stream || text.length > PIECE_BYTES) flush();
    stream = l.stream;
    text += l.partial ? l.text : `${l.text}\n`;
  }
  flush();
  return pieces;
}

export interface RunRouteDeps {
  rt: RuntimeDeps;
  events: EventSink;
  /** The root and host config this daemon serves, as `GET /v1/status` says them. */
  serves: Served;
  /** The work counted among the requests under way (container-routes.ts); refused once the daemon stops. */
  tracked<T>(work: () => Promise<T>): Promise<T>;
}

export function containerRunRoutes({ rt, events, serves, tracked }: RunRouteDeps): Routes {
  /** The interrupt of each run under way, by the token its first line gave (never a name: a second
   *  run of a name must not reach the first's container). */
  const runs = new Map<string, AbortController>();
  const emit = (object: string, reason: string, id: string) =>
    events.emit({
      type: 'container',
      object,
      reason,
      message: 'through the API',
      attributes: { id, via: 'api' },
    });

  const run = async (
    r: RunRequest,
    out: StreamWriter,
    gone: AbortSignal,
    interrupt: AbortController,
  ): Promise<number | null> => {
    const send = async (line: string) => out.write(line) && (await out.drained());
    const record = await createThroughApi(rt, events, r.create, gone);
    if (interrupt.signal.aborted) await removeUnstarted(rt, record);
    // Its log followed from before the start, so the first line goes out as conmon writes it, while
    // the start's record is still being written.
    const unstarted = new AbortController();
    const following = followRecordLogs(rt, record, {
      follow: true,
      untilExit: true,
      signal: interrupt.signal,
      gone: AbortSignal.any([gone, unstarted.signal]),
      emit: async (lines) => {
        for (const piece of linesText(lines)) if (!(await send(piece))) return;
      },
    });
    following.catch(() => undefined); // awaited below
    await removingOnFailure(rt, record, r.rm, () =>
      startCreated(rt, record).catch(async (err: unknown) => {
        unstarted.abort();
        await following.catch(() => undefined);
        throw err;
      }),
    );
    emit(record.name, 'Started', record.id);
    const say = (line: string) => send(`${JSON.stringify({ say: line })}\n`);
    const stops = stopper(rt, record, r.grace, say);
    const stop = () => stops.stop();
    if (interrupt.signal.aborted) stop();
    else interrupt.signal.addEventListener('abort', stop, { once: true });
    try {
      await removingOnFailure(rt, record, r.rm, () => following);
    } finally {
      interrupt.signal.removeEventListener('abort', stop);
      await stops.settled();
    }
    if (gone.aborted) return null; // left as a killed command leaves it
    const ended = await containerStatus(rt, record);
    if (r.rm && (await removeAfterRun(rt, record, say))) emit(record.name, 'Removed', record.id);
    return ended.exitCode;
  };

  return {
    'POST /v1/containers/run': async (req: RouteRequest) => {
      const r = runRequestOf(req.body(), serves);
      return new StreamResponse('application/x-ndjson', async (out, gone) => {
        // Registered before its token is said: an interrupt sent once the client has it always finds the run.
        const token = randomUUID();
        const interrupt = new AbortController();
        runs.set(token, interrupt);
        try {
          // A client gone before its run began (it stopped waiting for this answer) is left with nothing made.
          if (!out.write(`${JSON.stringify({ run: token })}\n`)) return;
          // A client that gave up while this daemon was busy has its close queued with its request:
          // one turn of the loop lets it land before anything is made.
          await new Promise((resolve) => setImmediate(resolve));
          if (gone.aborted) return;
          const exit = await tracked(() => run(r, out, gone, interrupt));
          out.write(`${JSON.stringify({ exit })}\n`);
        } catch (err) {
          out.write(
            endLineOf(isBerthError(err) ? err : new BerthError('ERR_INTERNAL', 'internal', String(err))),
          );
        } finally {
          runs.delete(token);
        }
      });
    },
    'POST /v1/containers/run/interrupt': async (req: RouteRequest) => {
      const body = req.body();
      if (!isObject(body) || typeof body.run !== 'string' || Object.keys(body).length !== 1)
        throw bad("the body must be a JSON object { run }, the token of the run's first line");
      const under = runs.get(body.run);
      under?.abort();
      return { interrupted: under !== undefined };
    },
  };
}
