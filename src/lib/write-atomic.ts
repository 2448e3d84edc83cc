// Replacing a small file whole: written beside it, then renamed over it, so a reader sees the old
// content or the new, never a part. Its folder is made first.
import { rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeDirs } from './make-dirs.js';

export async function writeFileAtomic(path: string, text: string, mode = 0o644): Promise<void> {
  await makeDirs(dirname(path));
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await rename(tmp, path);
}
