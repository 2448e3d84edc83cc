#!/usr/bin/env node
// Times a command from its launch to the first output of the container it starts, in ms.
//   first-output.mjs -- CMD ARGS...             first byte on CMD's stdout
//   first-output.mjs --file LOG -- CMD ARGS...  first byte written to LOG (berth: conmon's log)
// Waits for CMD to exit too (not timed), and exits non-zero if no output came within 30 s.
import { spawn } from 'node:child_process';
import { statSync, watch } from 'node:fs';
import { dirname } from 'node:path';

const argv = process.argv.slice(2);
const dd = argv.indexOf('--');
const file = argv[0] === '--file' ? argv[1] : undefined;
const cmd = argv.slice(dd + 1);
const started = process.hrtime.bigint();
let done = false;
const report = () => {
  if (done) return;
  done = true;
  process.stdout.write(`${Number(process.hrtime.bigint() - started) / 1e6}\n`);
};
const sizeOf = (f) => {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
};
let watcher;
if (file) {
  // The file may not exist yet: watch its directory, and look at the file on every event.
  watcher = watch(dirname(file), () => {
    if (sizeOf(file) > 0) report();
  });
}
const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', file ? 'ignore' : 'pipe', 'inherit'] });
child.stdout?.once('data', report);
child.stdout?.resume();
const timer = setTimeout(() => {
  process.stderr.write('no output within 30 s\n');
  process.exit(1);
}, 30_000);
const poll = file
  ? setInterval(() => {
      if (sizeOf(file) > 0) report();
    }, 1)
  : undefined;
child.on('close', (code) => {
  const finish = () => {
    if (!done) return setTimeout(finish, 1);
    clearTimeout(timer);
    clearInterval(poll);
    watcher?.close();
    process.exitCode = code ?? 1;
  };
  finish();
});
