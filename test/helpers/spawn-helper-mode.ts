// Tools started either way the product starts them: forked from Node, or through the daemon's spawn
// helper (runtime/spawn-helper.ts). `spawnMode(viaHelper)` in a describe: `use()` selects the way
// for the next calls and answers the pid their processes' parent will be; the helper is unselected
// after each test, and `stop()` (the describe's afterAll) ends it. `helperWithoutTools` gives a
// helper that can start no tool.
import { mkdtempSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { SpawnHelper } from '../../src/runtime/spawn-helper.js';
import { helperPython } from '../../src/runtime/spawn-helper-use.js';
import { useSpawnHelper } from '../../src/runtime/tool.js';

export function spawnMode(viaHelper: boolean): { use: () => number; stop: () => Promise<void> } {
  let helper: SpawnHelper | undefined;
  const use = () => {
    if (!viaHelper) return process.pid;
    helper ??= new SpawnHelper();
    useSpawnHelper(helper);
    return helper.pid();
  };
  const stop = async () => {
    await helper?.stop();
  };
  afterEach(() => useSpawnHelper(undefined));
  return { use, stop };
}

/**
 * A spawn helper that can start no tool: its PATH (the one it starts with) is a directory holding
 * python3 alone, under `dir`. What it does anyway it does without a process.
 */
export function helperWithoutTools(dir: string): SpawnHelper {
  const bin = mkdtempSync(join(dir, 'python-only-'));
  symlinkSync(helperPython() as string, join(bin, 'python3'));
  const saved = process.env.PATH;
  process.env.PATH = bin;
  try {
    const h = new SpawnHelper(join(bin, 'python3'));
    h.pid(); // started now, with this PATH
    return h;
  } finally {
    process.env.PATH = saved;
  }
}
