// The marks of running postStart hooks (src/reconcile/post-start-marks.ts): a mark counts only
// while the berth that wrote it runs; hostile files planted at a mark's name (a FIFO, a symlink, a
// directory, a huge file, a path-like id) never hang the read nor count; the readiness rule then
// says neither started nor ready, why, with or without probes.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readinessOf } from '../../src/health/health-file.js';
import { ownerToken } from '../../src/lib/process.js';
import {
  clearPostStart,
  isPostStartRunning,
  markPostStart,
  sweepPostStartMarks,
} from '../../src/reconcile/post-start-marks.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-poststart-marks-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('postStart marks', () => {
  it('a mark counts while its berth runs, and is gone once cleared', async () => {
    const marks = join(dir, 'own', 'poststart');
    expect(isPostStartRunning(marks, 'abc123')).toBe(false);
    await markPostStart(marks, 'abc123');
    expect(isPostStartRunning(marks, 'abc123')).toBe(true);
    expect(isPostStartRunning(marks, 'abc124')).toBe(false);
    await clearPostStart(marks, 'abc123');
    expect(isPostStartRunning(marks, 'abc123')).toBe(false);
    expect(await readdir(marks)).toEqual([]);
  });

  it("a dead berth's mark does not count (killed mid-hook)", async () => {
    const marks = join(dir, 'dead');
    await mkdir(marks);
    const child = spawn('sleep', ['1000']);
    const token = ownerToken(child.pid);
    await writeFile(join(marks, 'c1'), token);
    expect(isPostStartRunning(marks, 'c1')).toBe(true);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(isPostStartRunning(marks, 'c1')).toBe(false);
  });

  it('hostile: a FIFO, a symlink to a live mark, a directory, a huge file, a path as id: none hangs, none counts', async () => {
    const marks = join(dir, 'hostile');
    await mkdir(marks);
    execFileSync('mkfifo', [join(marks, 'fifo')]);
    await writeFile(join(dir, 'real'), ownerToken());
    await symlink(join(dir, 'real'), join(marks, 'link'));
    await mkdir(join(marks, 'dir'));
    await writeFile(join(marks, 'huge'), `${ownerToken()}${' '.repeat(1 << 20)}x`);
    await writeFile(join(dir, 'outside'), ownerToken());
    for (const id of ['fifo', 'link', 'dir', 'huge', '../outside', '..', ''])
      expect(isPostStartRunning(marks, id)).toBe(false);
    // A path-like id is never written either.
    await markPostStart(marks, '../escaped');
    expect(await readdir(dir)).not.toContain('escaped');
  });

  it("the sweep removes a killed berth's mark and draft, and planted non-marks; a live berth's mark stays", async () => {
    const marks = join(dir, 'sweep');
    await mkdir(marks);
    const child = spawn('sleep', ['1000']);
    const dead = ownerToken(child.pid);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    await writeFile(join(marks, 'killed'), dead); // what a berth killed mid-hook leaves
    await writeFile(join(marks, `.half.${dead}.tmp`), dead.slice(0, 3)); // killed mid-write
    await writeFile(join(marks, `.mine.${ownerToken()}.tmp`), ''); // a live berth writing it
    await markPostStart(marks, 'live');
    execFileSync('mkfifo', [join(marks, 'fifo')]);
    await symlink(join(marks, 'live'), join(marks, 'link'));
    await mkdir(join(marks, 'dir'));
    const swept = await sweepPostStartMarks(marks);
    expect(swept.sort()).toEqual([`.half.${dead}.tmp`, 'dir', 'fifo', 'killed', 'link']);
    expect((await readdir(marks)).sort()).toEqual([`.mine.${ownerToken()}.tmp`, 'live']);
    expect(isPostStartRunning(marks, 'live')).toBe(true);
    expect(await sweepPostStartMarks(join(dir, 'none'))).toEqual([]);
  });

  it('the readiness rule: running with its postStart under way is neither started nor ready', () => {
    const running = { id: 'c1', running: true, postStartRunning: true };
    const why = { started: false, ready: false, why: 'postStart hook running' };
    expect(readinessOf({ runtimeName: 'web_main' }, running, undefined)).toEqual(why);
    const ready = { pid: process.pid, containers: { web_main: { id: 'c1', started: true, ready: true } } };
    expect(
      readinessOf({ runtimeName: 'web_main', probes: { readiness: {} as never } }, running, ready),
    ).toEqual(why);
    expect(
      readinessOf({ runtimeName: 'web_main' }, { ...running, postStartRunning: false }, undefined),
    ).toEqual({
      started: true,
      ready: true,
    });
  });
});
