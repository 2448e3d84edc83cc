// Writing a hosts file that containers have bind-mounted as /etc/hosts. A bind mount of a file
// pins its inode: a new file renamed over it would never be seen inside, so the file is rewritten
// in place (one write of the whole text, then the length cut), and only when its text changes.
// The file is opened without following a symlink: it lives in berth's own directories, but a
// container that can write its /etc/hosts must not turn it into a door elsewhere.
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { errnoCode } from '../lib/errors.js';

export async function rewriteInPlace(path: string, text: string): Promise<void> {
  const data = Buffer.from(text);
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    fh = await open(
      path,
      constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o644,
    );
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    if (st.size === data.length) {
      const old = Buffer.alloc(data.length);
      await fh.read(old, 0, old.length, 0);
      if (old.equals(data)) return;
    }
    await fh.write(data, 0, data.length, 0);
    await fh.truncate(data.length);
  } finally {
    await fh.close();
  }
}

/**
 * rewriteInPlace, synchronous: a pod joining or leaving rewrites every pod's hosts file, and a
 * promise per step through the thread pool costs far more CPU than these local writes (a host of
 * 300 pods: 300 files on the path of the new pod's start).
 */
export function rewriteInPlaceSync(path: string, text: string): void {
  const data = Buffer.from(text);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    fd = openSync(
      path,
      constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o644,
    );
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    if (st.size === data.length) {
      const old = Buffer.alloc(data.length);
      readSync(fd, old, 0, old.length, 0);
      if (old.equals(data)) return;
    }
    writeSync(fd, data, 0, data.length, 0);
    ftruncateSync(fd, data.length);
  } finally {
    closeSync(fd);
  }
}
