// Choosing the spawn helper's python, and running a piece of work with its tools started through a
// helper of its own (spawn-helper.ts): `container run` (and `container rm`) forks some ten tools on
// its way to the container's first line, each costing Node a fork of its whole process (6-12 ms on the test host),
// where the helper's vfork costs about 2 ms, and it starts while berth reads the image.
import { accessSync, closeSync, constants, openSync, readSync } from 'node:fs';
import { SpawnHelper } from './spawn-helper.js';
import { spawnHelperInUse, useSpawnHelper } from './tool.js';

/** Is `file` an executable program (ELF), not a script that starts one? */
function isProgram(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(4);
      return readSync(fd, head, 0, 4, 0) === 4 && head.toString('latin1') === '\x7fELF';
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/**
 * The first python3 on PATH that is a program, not a version manager's shim (pyenv's is a shell
 * script taking 340 ms to start python, against 40); undefined without one (berth forks itself).
 */
export function helperPython(path = process.env.PATH ?? ''): string | undefined {
  return path
    .split(':')
    .filter((dir) => dir.startsWith('/'))
    .map((dir) => `${dir}/python3`)
    .find(isProgram);
}

/**
 * `fn` with every tool started through a helper of its own, stopped after; as is when one is in use
 * or there is no python. The helper starts now (beside what comes before the first tool), or at
 * the first tool when `startNow` is false.
 */
export async function withSpawnHelper<T>(fn: () => Promise<T>, startNow = true): Promise<T> {
  const python = spawnHelperInUse() ? undefined : helperPython();
  if (!python) return fn();
  const helper = new SpawnHelper(python);
  if (startNow) helper.pid();
  useSpawnHelper(helper);
  try {
    return await fn();
  } finally {
    useSpawnHelper(undefined);
    await helper.stop();
  }
}
