// A little space kept back under --root for the writes that free space. Removing an image rewrites
// index.json (a temp file, then rename), which needs free blocks even though the new file is smaller;
// on a file system something else filled to its last block, `image rm` could then never run. The
// store keeps `<root>/space-reserve` (zeros, really allocated), and a shrinking write that meets
// ENOSPC deletes it and tries once more. Whichever process next opens the store makes it again
// (when there is room: a missing reserve is never an error).
import { open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../lib/errors.js';

/** Room for index.json's temp file of several hundred images. */
export const RESERVE_BYTES = 256 * 1024;

export const reservePath = (root: string) => join(root, 'space-reserve');

/** Makes the reserve when it is missing or short; quietly gives up when there is no room for it. */
export async function ensureReserve(root: string): Promise<void> {
  const file = reservePath(root);
  const size = await stat(file).then(
    (s) => s.size,
    () => 0,
  );
  if (size >= RESERVE_BYTES) return;
  try {
    const h = await open(file, 'w', 0o600);
    try {
      await h.writeFile(Buffer.alloc(RESERVE_BYTES)); // written, not truncated: a sparse file holds no blocks
      await h.sync();
    } finally {
      await h.close();
    }
  } catch (err) {
    await rm(file, { force: true });
    if (errnoCode(err) !== 'ENOSPC' && errnoCode(err) !== 'EDQUOT') throw err;
  }
}

const isNoSpace = (err: unknown) => errnoCode(err) === 'ENOSPC' || errnoCode(err) === 'EDQUOT';

/**
 * Runs `write` (a write that leaves less in use than before); on ENOSPC gives the reserve up and
 * runs it once more. Still no room: ERR_NO_SPACE saying `what` failed.
 */
export async function withReserve<T>(root: string, what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isNoSpace(err)) throw err;
    await rm(reservePath(root), { force: true });
    try {
      return await write();
    } catch (again) {
      if (!isNoSpace(again)) throw again;
      throw new BerthError('ERR_NO_SPACE', 'limit', `${what}: the file system of ${root} is full`, {
        cause: again,
      });
    }
  }
}
