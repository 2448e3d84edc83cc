// Durability of a snapshot before it is published. A rename into place makes "a published
// snapshot is complete" hold across kill -9, not across a power cut: the file system may commit the
// rename before the files' data. One syncfs(2) of the file system holding the temp tree, before the
// rename, then an fsync of the directory the rename changed, make it hold for both. syncfs costs
// one call for the whole tree (an fsync per file would cost one per entry); Node has no syncfs, so
// coreutils' `sync -f` makes the call.
import { execFile } from 'node:child_process';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { BerthError } from '../lib/errors.js';

/** syncfs(2) of the file system holding `path`. */
export function syncFileSystem(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('sync', ['-f', path], (err, _out, stderr) => {
      if (!err) return resolve();
      reject(
        new BerthError(
          'ERR_SNAPSHOT_SYNC',
          'internal',
          `syncing the snapshot store: ${stderr.trim() || err.message}`,
          {
            cause: err,
          },
        ),
      );
    });
  });
}

/** fsync(2) of a directory (a rename or a new entry in it). */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
