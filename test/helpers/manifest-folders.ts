// Manifest folders for tests that load a folder of files: one temp directory per test file,
// removed after it, and a fresh numbered folder in it for each call.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/**
 * Registers the temp directory's setup and removal with the calling test file, and returns a
 * function that writes `files` (name → text) into a new folder under it and gives its path.
 */
export function manifestFolders(prefix: string): (files: Record<string, string>) => Promise<string> {
  let dir = '';
  let n = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `berth-${prefix}-`));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return async (files) => {
    const d = join(dir, `f${++n}`);
    await mkdir(d);
    for (const [name, text] of Object.entries(files)) await writeFile(join(d, name), text);
    return d;
  };
}
