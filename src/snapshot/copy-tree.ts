// Copying a whole snapshot tree (the native form: a snapshot starts as a copy of its parent).
// GNU cp -a keeps what a root filesystem needs: owners, modes with setuid/setgid/sticky, times,
// hardlinks within the tree, symlinks as links, device nodes, fifos and xattrs; --reflink=auto
// shares extents where the file system can (btrfs, xfs) and copies elsewhere.
import { execFile } from 'node:child_process';
import { BerthError } from '../lib/errors.js';

export function copyTree(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('cp', ['-a', '--reflink=auto', '--', `${from}/.`, `${to}/`], (err, _out, stderr) => {
      if (!err) return resolve();
      reject(
        new BerthError(
          'ERR_SNAPSHOT_COPY',
          stderr.includes('No space left') ? 'limit' : 'internal',
          `copying snapshot ${from} to ${to}: ${stderr.trim() || err.message}`,
          { cause: err },
        ),
      );
    });
  });
}
