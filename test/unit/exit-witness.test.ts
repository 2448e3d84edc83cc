// What tells a one-shot apply that a container it waits for has ended when its conmon was killed and
// will never write the exit file (runtime/exit-witness.ts), and the wake-up that polls it
// (reconcile/wake.ts). Processes are real (this one, a `sleep` it starts and kills); runc's and
// conmon's files are written by hand in a temp directory. Regression: `berth apply` waiting for a
// `completed` dependency whose conmon was killed waited for ever, holding the reconcile lock.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processStartTime } from '../../src/lib/process.js';
import { watchForWork } from '../../src/reconcile/wake.js';
import { exitsUntold, exitWitnessOf, isWitnessAlive } from '../../src/runtime/exit-witness.js';
import { runtimePaths } from '../../src/runtime/paths.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

describe('exit witnesses', () => {
  let dir: string;
  let deps: { paths: ReturnType<typeof runtimePaths>; runc: { root: string } };
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-exit-witness-'));
    const paths = runtimePaths(join(dir, 'root'), join(dir, 'state'));
    deps = { paths, runc: { root: paths.runcRoot } };
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  /** runc's state.json of container `id`, its init process `pid` with start time `start`. */
  const runcState = async (id: string, pid: number, start = processStartTime(pid)) => {
    await mkdir(join(deps.runc.root, id), { recursive: true });
    const state = { init_process_pid: pid, init_process_start: Number(start) };
    await writeFile(join(deps.runc.root, id, 'state.json'), JSON.stringify(state));
  };
  /** conmon's pid file of container `id`. */
  const conmonPid = async (id: string, pid: number) => {
    await mkdir(join(deps.paths.containers, id), { recursive: true });
    await writeFile(join(deps.paths.containers, id, 'conmon.pid'), String(pid));
  };
  const sleeper = async () => {
    const c = spawn('sleep', ['1000'], { stdio: 'ignore' });
    children.push(c);
    await new Promise((r) => c.once('spawn', r));
    return c;
  };

  it('no live conmon (its pid is another program): the container process is the witness, by its start time', async () => {
    await conmonPid(A, process.pid); // a pid, but no conmon of A: as after conmon was killed and the pid reused
    await runcState(A, process.pid);
    await runcState(B, process.pid, '1'); // the pid of another process now: its start time differs
    expect([await exitWitnessOf(deps, A), await exitWitnessOf(deps, B)]).toEqual([
      { id: A, kind: 'process', pid: process.pid },
      undefined,
    ]);
    expect(await isWitnessAlive(deps, { id: A, kind: 'conmon', pid: process.pid })).toBe(false);
  });

  it('the container process killed: its witness is gone, and so the exit is untold', async () => {
    const c = await sleeper();
    await runcState(A, c.pid as number);
    await runcState(B, process.pid);
    const untold = await exitsUntold(deps, [A, B]);
    expect(await untold()).toBe(false);
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
    expect(await untold()).toBe(true);
  });

  it('a container with no witness left at all is untold at once', async () => {
    await runcState(A, process.pid);
    expect(await (await exitsUntold(deps, [A, B]))()).toBe(true);
    expect(await (await exitsUntold(deps, [A]))()).toBe(false);
    expect(await (await exitsUntold(deps, []))()).toBe(false);
  });
});

describe('the wake-up of a one-shot apply', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-wake-poll-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ends when its poll finds something no event told, and not before', async () => {
    const wake = await watchForWork(join(dir, 'exits'));
    try {
      let found = false;
      let looks = 0;
      let woke = false;
      const waiting = wake
        .next(wake.mark(), undefined, {
          everyMs: 5,
          happened: async () => {
            looks++;
            return found;
          },
        })
        .then(() => {
          woke = true;
        });
      while (looks < 3) await new Promise((r) => setTimeout(r, 5));
      expect(woke).toBe(false);
      found = true;
      await waiting;
      expect(woke).toBe(true);
      // Done: it looks no more.
      const after = looks;
      await new Promise((r) => setTimeout(r, 30));
      expect(looks).toBe(after);
    } finally {
      wake.close();
    }
  });

  it('a poll that answers after an event ended its wait does not end the next wait', async () => {
    const wake = await watchForWork(join(dir, 'exits'));
    try {
      let answer: (yes: boolean) => void = () => undefined;
      const mark = wake.mark();
      const first = wake.next(mark, undefined, {
        everyMs: 1,
        happened: () =>
          new Promise<boolean>((r) => {
            answer = r;
          }),
      });
      await new Promise((r) => setTimeout(r, 20)); // its poll is waiting for an answer
      wake.bump();
      await first;
      let woke = false;
      const second = wake.next(wake.mark()).then(() => {
        woke = true;
      });
      answer(true);
      await new Promise((r) => setTimeout(r, 20));
      expect(woke).toBe(false);
      wake.bump();
      await second;
      expect(woke).toBe(true);
    } finally {
      wake.close();
    }
  });
});
