// The daemon's spawn helper (runtime/spawn-helper.ts): runTool goes through it once it is set, the
// child's parent is the helper (not the daemon), argv reaches the child byte for byte with no
// shell, and what a hostile or broken child does (runs forever, writes without end) or a broken
// helper does (killed, fed a bad line) ends in a bounded, exact outcome.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BerthError } from '../../src/lib/errors.js';
import { isProcessAlive } from '../../src/lib/process.js';
import { SpawnHelper } from '../../src/runtime/spawn-helper.js';
import { SPAWN_HELPER_SCRIPT } from '../../src/runtime/spawn-helper-script.js';
import { runTool, useSpawnHelper } from '../../src/runtime/tool.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['python3', 'sh', 'head', 'sleep']);

/** Bounded wait for a condition (no fixed sleeps). */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.skipIf(skip)('spawn helper', () => {
  const helpers: SpawnHelper[] = [];
  const start = () => {
    const h = new SpawnHelper();
    helpers.push(h);
    return h;
  };
  afterEach(async () => {
    useSpawnHelper(undefined);
    for (const h of helpers.splice(0)) await h.stop();
  });

  it('runs runTool through the helper: the child is the helper’s, not this process’s', async () => {
    const h = start();
    const before = await runTool('sh', ['-c', 'echo $PPID'], 'parent');
    expect(Number(before.stdout)).toBe(process.pid);
    useSpawnHelper(h);
    const after = await runTool('sh', ['-c', 'echo $PPID'], 'parent');
    expect(Number(after.stdout)).toBe(h.pid());
    expect(h.pid()).not.toBe(process.pid);
    // The helper is small whatever this process's size (that is its point).
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${h.pid()}/status`, 'utf8'))?.[1]);
    expect(rssKb).toBeLessThan(32 * 1024);
  });

  it('passes argv byte for byte, with no shell between', async () => {
    useSpawnHelper(start());
    const argv = ['a b', 'line\nbreak', '"quoted" \'single\'', '$(touch /tmp/x)', '`id`', 'ünï ✓', '', '*'];
    const r = await runTool('printf', ['%s\\0', ...argv], 'echo');
    expect(r.stdout).toBe(argv.map((a) => `${a}\0`).join(''));
  });

  it('gives the child only the environment asked for, and feeds it stdin of any size', async () => {
    const h = start();
    const env = await h.run({
      argv: ['env'],
      env: { CNI_COMMAND: 'ADD', PATH: '/usr/bin:/bin' },
      timeoutMs: 5000,
    });
    expect(env.stdout.trim().split('\n').sort()).toEqual(['CNI_COMMAND=ADD', 'PATH=/usr/bin:/bin']);
    // More than a pipe holds (64 KiB): fed beside the reading, not before it.
    const big = `${'x'.repeat(300_000)}\n✓`;
    const cat = await h.run({ argv: ['cat'], stdin: big, timeoutMs: 5000 });
    expect([cat.code, cat.stdout]).toEqual([0, big]);
    // A child that reads none of it and exits: answered, and the helper goes on serving.
    const early = await h.run({ argv: ['true'], stdin: big, timeoutMs: 5000 });
    expect(early.code).toBe(0);
    // A lone surrogate (a JS string is UTF-16) reaches the child as U+FFFD, as a fork writes it.
    expect((await h.run({ argv: ['cat'], stdin: 'a\ud800b', timeoutMs: 5000 })).stdout).toBe('a\ufffdb');
    // Without stdin the child's is /dev/null (cat ends at once).
    expect((await h.run({ argv: ['cat'], timeoutMs: 5000 })).stdout).toBe('');
  });

  it('fails like execFile: the code given, the tool and its last stderr lines', async () => {
    useSpawnHelper(start());
    const err = await runTool('sh', ['-c', 'echo one >&2; echo two >&2; exit 3'], 'testing', {
      code: 'ERR_TEST',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect((err as BerthError).code).toBe('ERR_TEST');
    expect((err as BerthError).message).toBe('testing: sh failed: one\ntwo'.replace('\n', '; '));
    const missing = await runTool('/nonexistent/tool', [], 'missing').catch((e: unknown) => e);
    expect((missing as BerthError).message).toBe(
      "missing: /nonexistent/tool failed: [Errno 2] No such file or directory: '/nonexistent/tool'",
    );
  });

  it('refuses an argument with a NUL byte, and goes on serving', async () => {
    const h = start();
    useSpawnHelper(h);
    const pid = h.pid();
    const err = await runTool('echo', ['a\0b'], 'nul').catch((e: unknown) => e);
    expect((err as BerthError).message).toBe('nul: echo failed: embedded null byte');
    expect((await runTool('echo', ['ok'], 'after')).stdout).toBe('ok\n');
    expect(h.pid()).toBe(pid);
  });

  it('kills a child past its time and reaps it', async () => {
    const h = start();
    const t0 = Date.now();
    const o = await h.run({ argv: ['sleep', '30'], timeoutMs: 200 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(o).toMatchObject({ code: null, signal: 9, why: 'timeout' });
    expect(isProcessAlive(o.pid)).toBe(false);
    useSpawnHelper(h);
    const err = await runTool('sleep', ['30'], 'sleeping', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect((err as BerthError).message).toBe('sleeping: sleep failed: Command failed: sleep 30: timed out');
  });

  it('keeps at most 16 MiB of a child that writes without end, and kills it', async () => {
    const h = start();
    const o = await h.run({ argv: ['sh', '-c', 'exec cat /dev/zero'], timeoutMs: 30_000 });
    expect(o.why).toBe('maxBuffer');
    expect(o.signal).toBe(9);
    expect(o.stdout.length).toBe(16 << 20);
  });

  it('runs requests side by side: a slow one does not hold a quick one back', async () => {
    const h = start();
    const slow = h.run({ argv: ['sleep', '2'], timeoutMs: 10_000 });
    const quick = h.run({ argv: ['echo', 'quick'], timeoutMs: 10_000 });
    const first = await Promise.race([slow.then(() => 'slow'), quick.then(() => 'quick')]);
    expect(first).toBe('quick');
    expect((await quick).stdout).toBe('quick\n');
    expect((await slow).code).toBe(0);
  });

  it('starts conmon’s way: answers on the sync pipe’s report, on a failed exit, when the pipe closes without one, or at the deadline', async () => {
    const h = start();
    // A stand-in for conmon: reports on the fd named in _OCI_SYNCPIPE, in a session of its own.
    const reported = await h.handshake({
      argv: ['sh', '-c', 'echo \'{"data": 42}\' >&$_OCI_SYNCPIPE; exec sleep 30'],
      timeoutMs: 10_000,
      env: { _OCI_SYNCPIPE: '3' },
    });
    expect(reported.sync).toBe('{"data": 42}\n');
    expect(reported.why).toBe(null);
    expect(reported.code).toBe(null); // still running: the caller's monitor, not ours to wait for
    const stat = readFileSync(`/proc/${reported.pid}/stat`, 'utf8');
    expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3])).toBe(reported.pid); // its own session
    process.kill(reported.pid, 'SIGKILL'); // the stand-in this test started
    const failed = await h.handshake({
      argv: ['sh', '-c', 'echo no runtime >&2; exit 1'],
      timeoutMs: 10_000,
      env: {},
    });
    expect(failed).toMatchObject({ code: 1, sync: '', stderr: 'no runtime\n', why: null });
    // conmon's way when runc fails without a word: the first process exits 0 once its monitor is
    // forked; the monitor exits 1 and closes the sync pipe without a report.
    const t1 = Date.now();
    const monitorGone = await h.handshake({
      argv: ['sh', '-c', '(sleep 0.3; exit 1) & exit 0'],
      timeoutMs: 30_000,
      env: {},
    });
    expect(Date.now() - t1).toBeLessThan(5000);
    expect(monitorGone).toMatchObject({ sync: '', stderr: '', why: null });
    const t0 = Date.now();
    const silent = await h.handshake({ argv: ['sleep', '30'], timeoutMs: 300, env: {} });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(silent).toMatchObject({ code: null, sync: '', why: 'timeout' });
    expect(isProcessAlive(silent.pid)).toBe(true); // the caller kills what it started, by pid
    process.kill(silent.pid, 'SIGKILL');
  });

  it('a helper that stops answering is killed past the request timeout and its grace; the next request starts a new one', async () => {
    // Stands in for a hung helper: reads every request, answers none.
    const dir = mkdtempSync(join(tmpdir(), 'berth-hung-helper-'));
    const hung = join(dir, 'hung');
    writeFileSync(hung, '#!/bin/sh\nexec cat >/dev/null\n', { mode: 0o755 });
    try {
      const h = new SpawnHelper(hung, 200);
      helpers.push(h);
      const first = h.pid();
      const t0 = Date.now();
      const err = await h.run({ argv: ['true'], timeoutMs: 100 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BerthError);
      expect((err as BerthError).code).toBe('ERR_SPAWN_HELPER');
      expect((err as Error).message).toMatch(/did not answer for true in time/);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      // Let go at once, not at its 'exit' (which a thread stuck in the kernel could delay for long):
      expect(h.pid()).not.toBe(first); // started again
      await until(() => !isProcessAlive(first));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a request left unanswered while the helper answers others fails alone; the helper goes on', async () => {
    // Stands in for a helper one of whose children is stuck (unkillable, in the kernel): it answers
    // every request but those of "stuck".
    const dir = mkdtempSync(join(tmpdir(), 'berth-stuck-helper-'));
    const stuck = join(dir, 'stuck-helper');
    writeFileSync(
      stuck,
      [
        '#!/usr/bin/env python3',
        'import json, sys',
        'for line in sys.stdin:',
        '    r = json.loads(line)',
        "    if r['argv'][0] == 'stuck': continue",
        "    print(json.dumps({'id': r['id'], 'pid': 1, 'code': 0, 'signal': None, 'stdout': 'ok', 'stderr': '', 'why': None}), flush=True)",
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    try {
      const h = new SpawnHelper(stuck, 300);
      helpers.push(h);
      const pid = h.pid();
      // Answering first: its interpreter's start (a pyenv shim on PATH: 340 ms, more under load) is
      // not the silence this test is about.
      expect((await h.run({ argv: ['echo'], timeoutMs: 10_000 })).stdout).toBe('ok');
      const lost = h.run({ argv: ['stuck'], timeoutMs: 100 }).catch((e: unknown) => e);
      // Answers keep coming past the stuck request's deadline.
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 100));
        expect((await h.run({ argv: ['echo'], timeoutMs: 1000 })).stdout).toBe('ok');
      }
      const err = (await lost) as BerthError;
      expect([err.code, err.message]).toEqual([
        'ERR_SPAWN_HELPER',
        'the spawn helper did not answer for stuck in time',
      ]);
      expect(h.pid()).toBe(pid); // not killed
      expect(isProcessAlive(pid)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a killed helper fails the requests under way, and the next request starts a new one', async () => {
    const h = start();
    const first = h.pid();
    const under = h.run({ argv: ['sleep', '30'], timeoutMs: 60_000 }).catch((e: unknown) => e);
    process.kill(first, 'SIGKILL'); // the helper this test started
    const err = await under;
    expect((err as BerthError).code).toBe('ERR_SPAWN_HELPER');
    expect((err as BerthError).message).toBe('the spawn helper exited (SIGKILL)');
    const o = await h.run({ argv: ['echo', 'again'], timeoutMs: 10_000 });
    expect(o.stdout).toBe('again\n');
    expect(h.pid()).not.toBe(first);
  });

  it('exits when its stdin closes (the daemon is gone), cleanly even with replies just written', async () => {
    // A stop right after a request: CPython's finalisation aborted (SIGABRT, after 1 s) when a
    // reply thread still held stdout's lock; the helper now leaves with os._exit under that lock.
    for (let i = 0; i < 8; i++) {
      const h = start();
      const pid = h.pid();
      const exited = new Promise<[number | null, string | null]>((res) => {
        const child = (h as unknown as { child: import('node:child_process').ChildProcess }).child;
        child.once('exit', (code, signal) => res([code, signal]));
      });
      expect((await h.run({ argv: ['echo', String(i)], timeoutMs: 5000 })).stdout).toBe(`${i}\n`);
      await h.stop();
      expect(await exited).toEqual([0, null]);
      await until(() => !isProcessAlive(pid));
    }
  });

  it('a request it cannot run (with an id) gets an error answer and the helper goes on; a malformed line ends it', async () => {
    const helper = () => {
      const child = spawn('python3', ['-I', '-c', SPAWN_HELPER_SCRIPT], {
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const exit = new Promise((res) => child.once('exit', res));
      return { child, out: () => out, exit };
    };
    const refused = [
      '{"id":1,"argv":"sh -c id","timeoutMs":100}',
      '{"id":2,"argv":[],"timeoutMs":1}',
      '{"id":3,"argv":["sleep","9"],"timeoutMs":1e308}',
      '{"id":4,"argv":["id"],"timeoutMs":9,"handshake":{"env":{"A":1}}}',
      '{"id":6,"argv":["id"],"timeoutMs":9,"env":{"A":["x"]}}',
      '{"id":7,"argv":["cat"],"timeoutMs":9,"stdin":{"text":"x"}}',
      '{"id":8,"argv":["cat"],"timeoutMs":9,"stdin":"x","handshake":{"env":{}}}',
    ];
    const h = helper();
    for (const line of refused) h.child.stdin.write(`${line}\n`);
    // A lone surrogate in stdin (what JSON can carry): replaced, never an error after the child started.
    h.child.stdin.write('{"id":9,"argv":["cat"],"timeoutMs":5000,"stdin":"a\\ud800b"}\n');
    h.child.stdin.write('{"id":5,"argv":["echo","still"],"timeoutMs":5000}\n');
    await until(() => h.out().includes('"id":5') && h.out().includes('"id":9'));
    h.child.stdin.end();
    expect(await h.exit).toBe(0);
    const answers = h
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; error?: string; stdout?: string });
    expect(answers.filter((a) => a.error).map((a) => [a.id, a.error])).toEqual(
      [1, 2, 3, 4, 6, 7, 8].map((id) => [id, 'spawn helper: a request it cannot run']),
    );
    expect(answers.find((a) => a.id === 5)?.stdout).toBe('still\n');
    expect(answers.find((a) => a.id === 9)?.stdout).toBe('a?b');
    for (const line of ['not json', '[1,2]', '{"argv":["id"],"timeoutMs":9}']) {
      const bad = helper();
      bad.child.stdin.write(`${line}\n`);
      expect(await bad.exit).toBe(2);
      expect(bad.out()).toBe('');
    }
  });

  it('a timeout beyond what the helper takes is bounded on the way in: that request and the others run', async () => {
    const h = start();
    const [long, other] = await Promise.all([
      h.run({ argv: ['echo', 'long'], timeoutMs: 86_400_001 }),
      h.run({ argv: ['echo', 'other'], timeoutMs: Number.NaN }),
    ]);
    expect([long.stdout, other.stdout]).toEqual(['long\n', 'other\n']);
  });
});
