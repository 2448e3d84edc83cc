// A hostPath volume's `type`, as the kubelet applies it before each container is made: DirectoryOrCreate
// makes the directory (0755) when nothing is there, FileOrCreate an empty file (0644; its
// directory must exist, as in Kubernetes); every type checks what is at the path (followed through
// symlinks, as the kubelet's stat does): a directory, a regular file, a socket (containerd's or
// docker's), a character device (/dev/fuse, /dev/kvm) or a block device. A mismatch fails that
// container's create with the path and what was found (the one it would replace keeps running),
// never a container with the wrong thing mounted. No type (or ""): a missing path is made a directory
// (0755), as containerd's CRI and Docker do for a bind mount's missing source, so the kubelet does;
// whatever is there is mounted as it is.
import { constants, type Stats } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import { BerthError, errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { refuseStickyLink } from '../lib/sticky-links.js';

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
  refuseStickyLink(h.path, `pod ${pod}: hostPath ${h.path}`);
  const want = WANTS[h.type];
  if (!want) {
    if (h.type === '') await makeMissingDir(pod, h.path);
    return;
  }
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

// lstat: a dangling symlink is not made a directory through (the mount then names it as missing).
async function makeMissingDir(pod: string, path: string): Promise<void> {
  const there = await lstat(path).then(
    () => true,
    (err) => {
      if (errnoCode(err) === 'ENOENT') return false;
      throw new BerthError(
        'ERR_HOSTPATH_TYPE',
        'invalid',
        `pod ${pod}: hostPath ${path} cannot be checked: ${(err as Error).message}`,
        { cause: err },
      );
    },
  );
  if (there) return;
  await makeDirs(path, 0o755).catch((err) => {
    throw new BerthError(
      'ERR_HOSTPATH_TYPE',
      'invalid',
      `pod ${pod}: hostPath ${path} does not exist and cannot be made a directory: ${(err as Error).message}`,
      { cause: err },
    );
  });
}
