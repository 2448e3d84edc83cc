// A hostPath volume's `type`, as the kubelet applies it before each container is made: DirectoryOrCreate
// makes the directory (0755) when nothing is there, FileOrCreate an empty file (0644; its
// directory must exist, as in Kubernetes); every type checks what is at the path (followed through
// symlinks, as the kubelet's stat does): a directory, a regular file, a socket (containerd's or
// docker's), a character device (/dev/fuse, /dev/kvm) or a block device. A mismatch fails that
// container's create with the path and what was found (the one it would replace keeps running),
// never a container with the wrong thing mounted. No type (or "") checks nothing.
import { constants, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { BerthError, errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';

export interface TypedHostPath {
  path: string;
  type: string;
}

const WANTS: Record<string, { what: string; is: (s: Stats) => boolean }> = {
  Directory: { what: 'a directory', is: (s) => s.isDirectory() },
  DirectoryOrCreate: { what: 'a directory', is: (s) => s.isDirectory() },
  File: { what: 'a file', is: (s) => s.isFile() },
  FileOrCreate: { what: 'a file', is: (s) => s.isFile() },
  Socket: { what: 'a socket', is: (s) => s.isSocket() },
  CharDevice: { what: 'a character device', is: (s) => s.isCharacterDevice() },
  BlockDevice: { what: 'a block device', is: (s) => s.isBlockDevice() },
};

const found = (s: Stats) =>
  s.isDirectory()
    ? 'a directory'
    : s.isFile()
      ? 'a file'
      : s.isSocket()
        ? 'a socket'
        : s.isCharacterDevice()
          ? 'a character device'
          : s.isBlockDevice()
            ? 'a block device'
            : 'a FIFO or other special file';

export async function prepareHostPath(pod: string, h: TypedHostPath): Promise<void> {
  const want = WANTS[h.type];
  if (!want) return;
  const fail = (why: string, cause?: unknown) =>
    new BerthError(
      'ERR_HOSTPATH_TYPE',
      'invalid',
      `pod ${pod}: hostPath ${h.path} (type ${h.type}) ${why}`,
      cause ? { cause } : {},
    );
  let s = await stat(h.path).catch((err) => {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw fail(`cannot be checked: ${(err as Error).message}`, err);
  });
  if (!s && h.type === 'DirectoryOrCreate') {
    await makeDirs(h.path, 0o755);
    s = await stat(h.path);
  }
  if (!s && h.type === 'FileOrCreate') {
    // O_EXCL|O_NOFOLLOW: a file (or symlink) put there meanwhile is checked below, never written.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    await open(h.path, flags, 0o644)
      .then((f) => f.close())
      .catch((err) => {
        if (errnoCode(err) === 'EEXIST') return;
        throw fail(
          errnoCode(err) === 'ENOENT'
            ? 'cannot be made: its directory does not exist (FileOrCreate makes no directory)'
            : `cannot be made: ${(err as Error).message}`,
          err,
        );
      });
    s = await stat(h.path);
  }
  if (!s) throw fail(`does not exist: it must be ${want.what}`);
  if (!want.is(s)) throw fail(`is ${found(s)}, not ${want.what}`);
}
