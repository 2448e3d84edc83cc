// A host path a container mounts (a pod's hostPath, `container create -v`), opened once for both
// the check and the mount: walked by descriptors (lib/host-path-walk.ts: links followed as the
// kernel follows them under fs.protected_symlinks=1), made when its `type` says so, and its type
// checked on the descriptor the walk ends on, which is what gets bound (sub-path-mounts.ts). So a
// path swapped after the check (a directory renamed away and a link to /etc put in its place) is
// never what the container gets.
//
// Types, as the kubelet applies them: DirectoryOrCreate makes the directory (0755) when nothing is
// there, FileOrCreate an empty file (0644; its directory must exist, as in Kubernetes); every type
// checks what is there (through links, as the kubelet's stat does): a directory, a regular file, a
// socket, a character device or a block device. No type (""): a missing path is made a directory
// (0755), as containerd's CRI and Docker do for a bind mount's missing source; whatever is there
// is taken as it is. A mount with no type at all (`-v`) must exist.
import { closeSync, type Stats } from 'node:fs';
import { BerthError, isBerthError } from '../lib/errors.js';
import { walkHostPath } from '../lib/host-path-walk.js';
import { type ContainerMount, invalid } from './spec.js';

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

export interface HostPathOpen {
  /** Names the path in errors: "pod web: hostPath /srv/x", "container c: mount source /srv/x". */
  what: string;
  /** A hostPath volume's type ("" for none); undefined for a mount that is not a hostPath (`-v`). */
  type?: string;
}

export interface OpenedHostPath {
  /** An O_PATH descriptor of what was checked: the caller binds it, then closes it. */
  fd: number;
  isDirectory: boolean;
}

/**
 * `path` opened, made and checked as its type says; undefined when it is missing and its type does
 * not require it (no type, or "" through a link to nowhere: the caller says it is missing).
 * Throws ERR_HOSTPATH_UNSAFE (a planted link) or ERR_HOSTPATH_TYPE.
 */
export function openHostPath(path: string, o: HostPathOpen): OpenedHostPath | undefined {
  const want = o.type === undefined ? undefined : WANTS[o.type];
  const fail = (why: string, cause?: unknown) =>
    new BerthError(
      'ERR_HOSTPATH_TYPE',
      'invalid',
      `${o.what}${o.type ? ` (type ${o.type})` : ''} ${why}`,
      cause ? { cause } : {},
    );
  const makes =
    o.type === '' || o.type === 'DirectoryOrCreate'
      ? { makeDirs: 0o755 }
      : o.type === 'FileOrCreate'
        ? { makeFile: 0o644 }
        : {};
  let walked: ReturnType<typeof walkHostPath>;
  try {
    walked = walkHostPath(path, { what: o.what, ...makes });
  } catch (err) {
    if (isBerthError(err)) throw err;
    throw fail(
      `cannot be ${o.type === undefined ? 'checked' : 'made or checked'}: ${(err as Error).message}`,
      err,
    );
  }
  if ('missing' in walked) {
    if (!want) return undefined;
    if (o.type === 'FileOrCreate' && walked.part === 'parent')
      throw fail('cannot be made: its directory does not exist (FileOrCreate makes no directory)');
    throw fail(`does not exist: it must be ${want.what}`);
  }
  if (want && !want.is(walked.stat)) {
    closeSync(walked.fd);
    throw fail(`is ${found(walked.stat)}, not ${want.what}`);
  }
  return { fd: walked.fd, isDirectory: walked.stat.isDirectory() };
}

/**
 * A bind mount's source as create.ts opens it, to check it and then to stage it: as its hostPath
 * type says, or, with none (`-v`, a pod's own directories), as it is, which must exist.
 */
export function openBindSource(m: ContainerMount, container: string): OpenedHostPath {
  const opened = openHostPath(m.source, {
    what: `container ${container}: mount source ${m.source}`,
    ...(m.hostPathType !== undefined ? { type: m.hostPathType } : {}),
  });
  if (!opened) throw invalid(`mount source ${m.source} does not exist`);
  return opened;
}
