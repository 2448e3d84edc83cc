// `mkdir -p` that always ends. Node's recursive mkdir loops forever on a file system that
// answers ENOENT for a name it will never create (procfs: `mkdir -p /proc/nope` spins at 100%
// CPU), so every parent is tried once, bottom up, and the first refusal is the answer.
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode } from './errors.js';

export async function makeDirs(path: string, mode = 0o755): Promise<void> {
  try {
    await mkdir(path, mode);
    return;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EEXIST') return assertDirectory(path, err);
    if (code !== 'ENOENT' || dirname(path) === path) throw err;
  }
  await makeDirs(dirname(path), mode);
  try {
    await mkdir(path, mode);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    await assertDirectory(path, err);
  }
}

async function assertDirectory(path: string, err: unknown): Promise<void> {
  if (!(await stat(path)).isDirectory()) throw Object.assign(err as Error, { code: 'ENOTDIR' });
}
