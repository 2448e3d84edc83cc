// Choosing the spawn helper's python, and running a piece of work with its tools started through a
// helper of its own (spawn-helper.ts): `container run` forks some ten tools on its way to the
// container's first line, each costing Node a fork of its whole process (6-12 ms on the test host),
// where the helper's vfork costs about 2 ms, and it starts while berth reads the image.
import { existsSync } from 'node:fs';
import { SpawnHelper } from './spawn-helper.js';
import { findOnPath, spawnHelperInUse, useSpawnHelper } from './tool.js';

/** The system's python3 where there is one, else PATH's; undefined without any (then berth forks itself). */
export function helperPython(): string | undefined {
  // A PATH python may be a version manager's shim (pyenv's: 340 ms to start, against 40).
  if (existsSync('/usr/bin/python3')) return '/usr/bin/python3';
  const found = findOnPath('python3');
  return found.includes('/') ? found : undefined;
}

/** `fn` with every tool started through a helper of its own, stopped after; as is when one is in use or there is no python. */
export async function withSpawnHelper<T>(fn: () => Promise<T>): Promise<T> {
  const python = spawnHelperInUse() ? undefined : helperPython();
  if (!python) return fn();
  const helper = new SpawnHelper(python);
  helper.pid(); // started now, beside what comes before the first tool
  useSpawnHelper(helper);
  try {
    return await fn();
  } finally {
    useSpawnHelper(undefined);
    await helper.stop();
  }
}
