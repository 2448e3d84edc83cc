// Wires the process (argv, stdio, signals) to runCli; main.ts loads it once the compile cache is on.
import { setLongTimeout } from '../lib/long-timeout.js';
import { runCli } from './run.js';

/** After the first signal, how long a clean stop may take before the process leaves anyway (a command may set it). */
let graceMs = 15_000;

const controller = new AbortController();
let interrupts = 0;
let onHangup: (() => void) | undefined;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (sig === 'SIGHUP' && onHangup) return onHangup();
    // First signal: stop cleanly (partial downloads are parked for resume). Second, or a stop that
    // hangs in the kernel or a stuck file system: leave now.
    if (++interrupts > 1) process.exit(130);
    setLongTimeout(() => process.exit(130), graceMs).unref();
    controller.abort(new Error(`interrupted by ${sig}`));
  });
}

// `berth ps | head`: a reader that goes away ends berth quietly, as SIGPIPE ends other tools;
// unless the command asked to be told (`container run` then stops and removes its container).
let onOutputClosed: (() => void) | undefined;
let outputClosed = false;
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    if (!onOutputClosed) process.exit(process.exitCode ?? 0);
    if (!outputClosed) onOutputClosed();
    outputClosed = true; // what is written after goes nowhere
  });
}

const code = await runCli(
  process.argv.slice(2),
  {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    now: () => new Date(),
    whenOutputCloses: (fn) => {
      onOutputClosed = fn;
    },
    whenHangup: (fn) => {
      onHangup = fn;
    },
    setStopTimeout: (ms) => {
      graceMs = ms;
    },
  },
  controller.signal,
);
process.exitCode = code;
