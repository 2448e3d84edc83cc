#!/usr/bin/env node
// What one spawn costs from a Node process of a given size: forked by Node itself (execFile) and
// through the daemon's spawn helper (dist/runtime/spawn-helper.js; run `npm run build` first).
//   spawn.mjs [MiB of ballast, default 0] [runs, default 40]
// Prints, for each way, the wall time and the CPU (Node's, and the helper's) per `runc --version`.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const { SpawnHelper } = await import(join(repo, 'dist/runtime/spawn-helper.js'));
const { findOnPath } = await import(join(repo, 'dist/runtime/tool.js'));
const mib = Number(process.argv[2] ?? 0);
const runs = Number(process.argv[3] ?? 40);
const ballast = [];
for (let i = 0; i < mib; i++) ballast.push(Buffer.alloc(1 << 20, i & 255)); // resident, like a heap
const runc = findOnPath('runc');
const nodeMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const helperMs = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, at USER_HZ 100
};
const helper = new SpawnHelper(findOnPath('python3'));
await helper.run({ argv: ['true'], timeoutMs: 10_000 });
const ways = {
  execFile: () =>
    new Promise((resolve, reject) => execFile(runc, ['--version'], (err) => (err ? reject(err) : resolve()))),
  helper: () => helper.run({ argv: [runc, '--version'], timeoutMs: 10_000 }),
};
const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
for (const [name, once] of Object.entries(ways)) {
  const c0 = nodeMs();
  const h0 = helperMs(helper.pid());
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await once();
  const per = (x) => (x / runs).toFixed(2);
  console.log(
    `RSS ${rss} MiB, ${name}: ${per(performance.now() - t0)} ms wall, ${per(nodeMs() - c0)} ms Node CPU + ${per(helperMs(helper.pid()) - h0)} ms helper CPU per spawn`,
  );
}
await helper.stop();
