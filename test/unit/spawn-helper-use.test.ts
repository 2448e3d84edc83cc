// Which python3 the spawn helper runs on: the first on PATH that is a program, never a version
// manager's shim (a script: pyenv's took 340 ms to start python where the program took 40), and
// none when PATH has no python3 program (the caller then forks its tools itself).
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { helperPython } from '../../src/runtime/spawn-helper-use.js';

describe('helperPython', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-helper-python-'));
    for (const d of ['shims', 'bin', 'noexec', 'empty']) await mkdir(join(dir, d));
    await writeFile(join(dir, 'shims/python3'), '#!/usr/bin/env bash\nexec pyenv exec python3 "$@"\n', {
      mode: 0o755,
    });
    await copyFile(process.execPath, join(dir, 'bin/python3')); // any ELF program stands for python here
    await chmod(join(dir, 'bin/python3'), 0o755);
    await copyFile(process.execPath, join(dir, 'noexec/python3'));
    await chmod(join(dir, 'noexec/python3'), 0o644);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('skips a shim and a file that is not executable, and takes the program after them', () => {
    const path = ['shims', 'noexec', 'empty', 'bin'].map((d) => join(dir, d)).join(':');
    expect(helperPython(path)).toBe(join(dir, 'bin/python3'));
  });

  it('none when PATH has only a shim, or relative directories', () => {
    expect(helperPython(join(dir, 'shims'))).toBeUndefined();
    expect(helperPython(`bin:${join(dir, 'empty')}`)).toBeUndefined();
  });
});
