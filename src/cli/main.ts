#!/usr/bin/env node
// The `berth` executable: wires the process (argv, stdio, signals) to runCli.
import { runCli } from './run.js';

const controller = new AbortController();
let interrupts = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    // First signal: stop cleanly (partial downloads are parked for resume). Second: leave now.
    if (++interrupts > 1) process.exit(130);
    controller.abort(new Error(`interrupted by ${sig}`));
  });
}

const code = await runCli(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, env: process.env, now: () => new Date() },
  controller.signal,
);
process.exitCode = code;
