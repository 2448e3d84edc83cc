// killTree (src/runtime/process-tree.ts) against real processes: a tree of shells forking as fast as
// they can is killed whole, none of its children left running (reparented to init); an empty or
// gone root is nothing to kill. Every process is found by a marker argument unique to the run and killed by pid after.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { killTree, processTree } from '../../src/runtime/process-tree.js';

const marker = `${7000 + Math.floor(Math.random() * 999)}.${process.pid}`;

/** Live (not zombie) processes whose command line holds the marker. */
function survivors(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (cmd.includes(marker) && !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z'))
        out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

afterEach(() => {
  for (const pid of survivors()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

describe('killTree', () => {
  it('kills every process of a tree forking as fast as it can, round after round', async () => {
    for (let round = 0; round < 3; round++) {
      const child = spawn(
        'sh',
        ['-c', `for i in 1 2 3 4 5 6 7 8; do (while :; do sleep ${marker} & done) & done; wait`],
        { stdio: 'ignore' },
      );
      const exited = new Promise((r) => child.once('exit', r));
      // 150 ms of forking, and the tree grown past its 8 loops: on a loaded host the shell may not
      // have forked them all by then.
      await new Promise((r) => setTimeout(r, 150));
      let size = processTree([child.pid as number]).length;
      for (const end = Date.now() + 20_000; size <= 8 && Date.now() < end; ) {
        await new Promise((r) => setTimeout(r, 10));
        size = processTree([child.pid as number]).length;
      }
      expect(size).toBeGreaterThan(8);
      expect(await killTree([child.pid as number], 5000)).toBe(true);
      await exited;
      // A child forked while its parent was being stopped is reparented, not killed, when missed.
      await new Promise((r) => setTimeout(r, 50));
      expect({ round, left: survivors().length }).toEqual({ round, left: 0 });
    }
  }, 60_000);

  it('has nothing to kill under a root that is gone or not a pid', async () => {
    expect(processTree([0, -1])).toEqual([]);
    expect(await killTree([0], 100)).toBe(true);
  });
});
