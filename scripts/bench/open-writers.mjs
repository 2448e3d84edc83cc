#!/usr/bin/env node
// What the writer check (dist/manifest/open-writers.js; run `npm run build` first) costs on a busy
// host: it starts a writer holding a file open, then N more processes with 10 descriptors each, all
// newer than the writer (it is looked at last), and asks as the daemon does, one poll at a time.
//   open-writers.mjs [processes, default 2000]
// Prints the processes on the host, the polls one whole pass took and the longest poll (what the
// daemon's loop stalls for; the budget is 50 ms), and one whole pass read at once (`apply`'s): its
// time and processes per ms. Measured, not asserted.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const { createWriterScan, SCAN_BUDGET_MS } = await import(join(repo, 'dist/manifest/open-writers.js'));
const { identityOf } = await import(join(repo, 'dist/lib/file-cache.js'));
const count = Number(process.argv[2] ?? 2000);
const work = mkdtempSync(join(tmpdir(), 'berth-bench-writers-'));
const file = join(work, 'pod.yaml');
writeFileSync(file, 'kind: Pod\n');
const writer = spawn('bash', ['-c', 'exec 3>>"$0"; echo ready; exec sleep 600', file], {
  stdio: ['ignore', 'pipe', 'ignore'],
});
await new Promise((r) => writer.stdout.once('data', r));
const sleepers = execFileSync(
  'bash',
  [
    '-c',
    `for i in $(seq ${count}); do sleep 600 >/dev/null 2>&1 </dev/null 3</etc/hosts 4</etc/hosts 5</etc/passwd 6</etc/passwd 7</etc/group 8</etc/group 9</etc/hostname & echo $!; done`,
  ],
  { encoding: 'utf8' },
)
  .trim()
  .split('\n')
  .map(Number);
try {
  const processes = readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p)).length;
  const scan = createWriterScan();
  let polls = 0;
  let longest = 0;
  let verdict = 'unknown';
  while (verdict === 'unknown') {
    const t0 = performance.now();
    verdict = scan.poll([file])(file, identityOf(file));
    longest = Math.max(longest, performance.now() - t0);
    polls++;
  }
  const t0 = performance.now();
  const once = createWriterScan({ budgetMs: Number.POSITIVE_INFINITY }).poll([file])(file, identityOf(file));
  const whole = performance.now() - t0;
  console.log(`${processes} processes; the writer, oldest of them: ${verdict} / ${once}`);
  console.log(
    `daemon (${SCAN_BUDGET_MS} ms a poll): ${polls} polls, longest ${longest.toFixed(1)} ms; whole pass at once: ${whole.toFixed(0)} ms, ${(processes / whole).toFixed(1)} processes/ms`,
  );
} finally {
  for (const pid of sleepers) {
    try {
      process.kill(pid);
    } catch {
      // gone
    }
  }
  writer.kill();
  rmSync(work, { recursive: true, force: true });
}
