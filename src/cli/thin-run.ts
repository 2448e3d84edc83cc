// `berth container run` in the foreground, with a daemon serving its root and config: the whole
// run handed to the daemon in one request (container-run-route.ts), its output and exit code
// streamed back. The command loads only this file, the argument parser and the API client (about a
// fifth of the modules of the full command: the runtime, the host config's YAML and schema, the
// network adapter stay in the daemon, warm). Anything else is the full command's (commands/
// container-run.ts), which main.ts runs when this answers undefined: no daemon or another one,
// --detach, --pull always, --help, arguments it would refuse, a daemon without the route or with no
// room for a stream, and an image the store lacks (the full command pulls it). An undefined answer
// is only ever given before anything was made, with no handler of this file left on the process.
// The run request says which root and config it is for (`served`): a daemon serving others refuses
// it before anything, so the command asks once instead of `GET /v1/status` first; a daemon of
// before that field refuses the field, and only then is the status asked (daemon-containers.ts).
//
// Behaviour is the full command's: the container's stdout and stderr on berth's, berth's exit code
// the container's (its own failures 125, 127, 130); the first SIGINT, SIGTERM or SIGHUP, or a reader
// of its output gone (`| head -1`), asks the daemon to stop it (its StopSignal, --time, SIGKILL),
// and its last words still come; a second signal leaves at once (130) and leaves the container.
import { callDaemon, daemonGone, errorOfBody, socketPath } from '../api/client.js';
import { DEFAULT_API_LIMITS } from '../api/limits.js';
import { lineExchange } from '../api/line-exchange.js';
import { canonicalPath } from '../lib/canonical-path.js';
import type { BerthError } from '../lib/errors.js';
import { formatErrorLines } from '../lib/errors.js';
import { setLongTimeout } from '../lib/long-timeout.js';
import { refusePlantedLinks } from '../lib/planted-links.js';
import { type GlobalFlags, parseCommandArgs, splitCommandPath } from './args.js';
import { createFlagsOf, RUN_OPTIONS } from './create-options.js';
import { daemonServing, STATUS_TIMEOUT_MS, servedBy } from './daemon-containers.js';
import { INTERRUPTED, imageMissing, RUN_FAILED, runFailureCode, STOP_MARGIN_MS } from './run-exit-codes.js';

const RUN_PATH = '/v1/containers/run';

interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: Record<string, string | undefined>;
}

/** The request for these arguments, or undefined when they are the full command's to handle. */
function requestOf(argv: readonly string[], env: Io['env']) {
  const { path, rest } = splitCommandPath(argv, 2);
  if (path[0] !== 'container' || path[1] !== 'run') return undefined;
  let parsed: ReturnType<typeof parseCommandArgs>;
  let flags: GlobalFlags;
  let served: ReturnType<typeof servedBy>;
  try {
    parsed = parseCommandArgs(rest, RUN_OPTIONS, env);
    flags = {
      ...parsed.global,
      root: canonicalPath(parsed.global.root),
      state: canonicalPath(parsed.global.state),
    };
    refusePlantedLinks(parsed.global.root, '--root');
    refusePlantedLinks(parsed.global.state, '--state');
    served = servedBy(flags);
  } catch {
    return undefined; // said by the full command, as it says it
  }
  const { values, positionals, passthrough, global } = parsed;
  if (global.help || positionals.length !== 2 || values.detach === true) return undefined;
  if (values.pull !== undefined && values.pull !== 'missing' && values.pull !== 'never') return undefined;
  const create = createFlagsOf(values);
  const [image, name] = positionals as [string, string];
  const body = {
    image,
    name,
    flags: create,
    command: passthrough,
    rm: values.rm === true,
    ...(typeof values.time === 'string' ? { time: values.time } : {}),
  };
  // The body without `served` is for a daemon of before it (thinRun).
  const text = JSON.stringify({ ...body, served });
  if (Buffer.byteLength(text) > DEFAULT_API_LIMITS.maxBodyBytes) return undefined;
  return { flags, name, text, body, pullNever: values.pull === 'never', time: values.time };
}

type Request = NonNullable<ReturnType<typeof requestOf>>;

const errorOf = (e: Record<string, unknown>) => errorOfBody(e, 'the daemon failed');

/** Errors that send the run to the full command: nothing was made, and it does otherwise. */
const FALL_BACK = new Set([
  'ERR_API_NOT_FOUND',
  'ERR_API_BUSY',
  'ERR_DAEMON_STOPPING',
  'ERR_DAEMON_SERVES_OTHER',
]);

/** A daemon of before `served` refused the field (container-routes.ts: an unknown field), nothing made. */
const OLDER_DAEMON = Symbol('a daemon that does not know served');
const refusesServed = (status: number, e: BerthError) =>
  status === 400 && e.code === 'ERR_API_BAD_BODY' && e.message.includes('"served"');

/**
 * Runs `container run` through the daemon and answers berth's exit code, or undefined when the
 * full command is to run instead (nothing made, nothing said).
 */
export async function thinRun(argv: readonly string[], io: Io): Promise<number | undefined> {
  const req = requestOf(argv, io.env);
  if (!req) return undefined;
  const socket = socketPath(req.flags.state);
  const ran = await runThrough(socket, req, req.text, io);
  if (ran !== OLDER_DAEMON) return ran;
  // An older daemon: whether it serves this root and config is asked first, as it was then.
  if ((await daemonServing(req.flags)) !== socket) return undefined;
  const again = await runThrough(socket, req, JSON.stringify(req.body), io);
  return again === OLDER_DAEMON ? undefined : again;
}

/** The run asked of the daemon at `socket` with the request body `text`. */
async function runThrough(
  socket: string,
  req: Request,
  text: string,
  io: Io,
): Promise<number | undefined | typeof OLDER_DAEMON> {
  let exit: number | null | undefined;
  let failure: BerthError | undefined;
  let interrupts = 0;
  let outputGone = false;
  // The run's token, its first line: an interrupt before it is held until it comes (the daemon has
  // registered the run by then), so one sent at any moment after the request reaches it.
  let token: string | undefined;
  let held = false;
  let ended = false;
  const interrupt = async () => {
    if (token === undefined) {
      held = true;
      return;
    }
    // Tried again while the run lasts: a daemon at its connection limit refuses for a moment.
    for (let tries = 0; tries < 20 && !ended; tries++) {
      const sent = await callDaemon(socket, 'POST', `${RUN_PATH}/interrupt`, 10_000, { run: token }).then(
        () => true,
        () => false,
      );
      if (sent) return;
      await new Promise((r) => setTimeout(r, 250).unref());
    }
  };
  const onSignal = () => {
    // First: the daemon stops the container, its last words follow. Second, or a stop that hangs: leave now.
    if (++interrupts > 1) process.exit(INTERRUPTED);
    const graceMs = (req.time === '0' ? 0 : Number(req.time ?? 10)) * 1000;
    setLongTimeout(
      () => process.exit(INTERRUPTED),
      (Number.isFinite(graceMs) ? graceMs : 10_000) + STOP_MARGIN_MS,
    ).unref();
    void interrupt();
  };
  const onOutputError = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    if (!outputGone && interrupts === 0) void interrupt(); // `| head -1`: as an interrupt
    outputGone = true;
    ex.socket.resume(); // a 'drain' that will never come was waited for
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const sig of signals) process.on(sig, onSignal);
  for (const s of [io.stdout, io.stderr]) s.on('error', onOutputError);
  const unwire = () => {
    for (const sig of signals) process.off(sig, onSignal);
    for (const s of [io.stdout, io.stderr]) s.off('error', onOutputError);
  };

  const write = (stream: NodeJS.WriteStream, text: string) => {
    if (outputGone) return;
    // A slow reader of berth's output slows the daemon's reads of the log, not berth's memory.
    if (!stream.write(text)) {
      ex.socket.pause();
      stream.once('drain', () => ex.socket.resume());
    }
  };
  const ex = lineExchange({
    socketPath: socket,
    path: RUN_PATH,
    text,
    // No daemon (no socket, a stale one) is an error here, and one that does not begin its answer
    // in time is not waited for (as its status would not be): the full command then runs.
    headTimeoutMs: STATUS_TIMEOUT_MS,
    onLine(line) {
      let v: Record<string, unknown>;
      try {
        v = JSON.parse(line);
      } catch {
        return;
      }
      if (typeof v.run === 'string' && token === undefined) {
        token = v.run;
        if (held) void interrupt();
      } else if (typeof v.out === 'string') write(io.stdout, v.out);
      else if (typeof v.err === 'string') write(io.stderr, v.err);
      else if (typeof v.say === 'string') write(io.stderr, `berth: ${v.say}\n`);
      else if ('exit' in v) exit = typeof v.exit === 'number' ? v.exit : null;
      else if (typeof v.error === 'object' && v.error) failure = errorOf(v.error as Record<string, unknown>);
    },
  });
  const answer = await ex.done.catch(() => undefined);
  ended = true;
  unwire();
  // No answer at all: the daemon went before its run began (a stream's head goes before anything is made).
  if (!answer && interrupts === 0) return undefined;
  if (answer && answer.status !== 200) {
    let e: Record<string, unknown> = {};
    try {
      e = JSON.parse(answer.body.toString('utf8')).error ?? {};
    } catch {}
    failure = errorOf(e);
  }
  if (exit !== undefined) return exit ?? RUN_FAILED;
  failure ??= daemonGone(socket, RUN_PATH);
  if (answer && interrupts === 0 && refusesServed(answer.status, failure)) return OLDER_DAEMON;
  if (interrupts === 0 && !outputGone) {
    if (FALL_BACK.has(failure.code)) return undefined;
    if (imageMissing(failure) && !req.pullNever) return undefined; // the full command pulls it
  }
  for (const line of formatErrorLines(failure)) io.stderr.write(`berth: ${line}\n`);
  if (io.env.BERTH_DEBUG) io.stderr.write(`${failure.stack ?? ''}\n`);
  return interrupts > 0 ? INTERRUPTED : runFailureCode(failure);
}
