// Tools started either way the product starts them: forked from Node, or through the daemon's spawn
// helper (runtime/spawn-helper.ts). `spawnMode(viaHelper)` in a describe: `use()` selects the way
// for the next calls and answers the pid their processes' parent will be; the helper is unselected
// after each test, and `stop()` (the describe's afterAll) ends it.
import { afterEach } from 'vitest';
import { SpawnHelper } from '../../src/runtime/spawn-helper.js';
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
