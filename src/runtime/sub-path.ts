// A volume mount's subPath: checked as text (pure) and opened inside its volume without ever
// following a symlink (I/O). The text rules repeat the schema's (schemas/pod.schema.json) because
// settings also come from the CLI, the API and old records: defence in depth.
//
// Why the walk is safe against a container that races it: the volume root is opened once; each
// component is then looked up relative to the fd of the previous one (`/proc/self/fd/N/NAME` is
// openat(N, NAME)) with O_NOFOLLOW, so a component that is (or becomes) a symlink fails with
// ENOTDIR/ELOOP instead of being followed, and a directory renamed away mid-walk only moves the
// walk with it, inside the volume. O_PATH means no driver `open` ever runs for what we look at
// (a device node, a FIFO), and fstat of the fd says what it is.
import { chmodSync, closeSync, constants, fstatSync, mkdirSync, openSync } from 'node:fs';
import { BerthError, errnoCode } from '../lib/errors.js';
import { O_PATH } from '../lib/o-path.js';

function unsafe(message: string): BerthError {
  return new BerthError('ERR_SUBPATH_UNSAFE', 'invalid', message);
}

/**
 * Why `path` is not a relative path inside a volume (empty, absolute, a NUL, a `..`, an empty or `.`
 * component), or undefined when it is. The one rule for subPaths and a config volume's file paths.
 */
export function insidePathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.startsWith('/')) return `"${path}" is absolute: it must be inside the volume`;
  if (path.includes('\0')) return 'contains a NUL byte';
  const parts = path.split('/');
  if (parts.includes('..')) return `"${path}" contains "..": it must stay inside the volume`;
  if (parts.some((p) => p === '' || p === '.')) return `"${path}" has an empty or "." component`;
  return undefined;
}

/** The components of a subPath, or an error: relative, no `..`, `.` or empty part, no NUL. */
export function subPathComponents(subPath: string): string[] {
  const problem = insidePathProblem(subPath);
  if (problem) throw unsafe(`subPath ${problem}`);
  return subPath.split('/');
}

export interface OpenedSubPath {
  /** An O_PATH fd of the subPath, inside the volume; the caller closes it. */
  fd: number;
  isDirectory: boolean;
}

const DIR_FLAGS = O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const LAST_FLAGS = O_PATH | constants.O_NOFOLLOW;

/**
 * Open `subPath` inside the directory `volumeRoot`, creating missing directories (with the mode of
 * the volume root, as the kubelet does, so a 0777 emptyDir gives 0777 subdirectories) the same
 * safe way. The last component may be a directory or a regular file; anything else (a symlink, a
 * device, a FIFO, a socket) is refused.
 */
export function openSubPath(volumeRoot: string, subPath: string): OpenedSubPath {
  subPathComponents(subPath); // refused as text before anything is opened
  // The root itself is trusted (berth made it): it may be reached through symlinks; nothing below it may.
  const root = openOrRefuse(volumeRoot, O_PATH | constants.O_DIRECTORY, volumeRoot, subPath);
  try {
    return openSubPathIn(root, volumeRoot, subPath);
  } finally {
    closeSync(root);
  }
}

/**
 * openSubPath inside the directory open as `rootFd` (a hostPath opened by host-path-open.ts), which
 * `volumeRoot` names in errors; `rootFd` stays the caller's.
 */
export function openSubPathIn(rootFd: number, volumeRoot: string, subPath: string): OpenedSubPath {
  const parts = subPathComponents(subPath);
  let fd = openOrRefuse(`/proc/self/fd/${rootFd}`, O_PATH | constants.O_DIRECTORY, volumeRoot, subPath);
  try {
    const mode = fstatSync(fd).mode & 0o7777;
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      const at = `/proc/self/fd/${fd}/${part}`;
      let next: number;
      try {
        next = openSync(at, last ? LAST_FLAGS : DIR_FLAGS);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw refusal(err, volumeRoot, subPath);
        makeDir(at, mode, volumeRoot, subPath);
        next = openOrRefuse(at, DIR_FLAGS, volumeRoot, subPath);
        chmodSync(`/proc/self/fd/${next}`, mode); // mkdir's mode went through the umask
      }
      closeSync(fd);
      fd = next;
    }
    const st = fstatSync(fd);
    if (!st.isDirectory() && !st.isFile()) {
      throw unsafe(
        `subPath "${subPath}" of ${volumeRoot} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory or a regular file'}`,
      );
    }
    return { fd, isDirectory: st.isDirectory() };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

function makeDir(at: string, mode: number, volumeRoot: string, subPath: string): void {
  try {
    mkdirSync(at, mode);
  } catch (err) {
    // Made meanwhile (by the container): opened below with O_NOFOLLOW like any other.
    if (errnoCode(err) !== 'EEXIST') throw refusal(err, volumeRoot, subPath);
  }
}

function openOrRefuse(at: string, flags: number, volumeRoot: string, subPath: string): number {
  try {
    return openSync(at, flags);
  } catch (err) {
    throw refusal(err, volumeRoot, subPath);
  }
}

function refusal(err: unknown, volumeRoot: string, subPath: string): BerthError {
  const code = errnoCode(err);
  const why =
    code === 'ENOTDIR' || code === 'ELOOP'
      ? 'goes through a symbolic link or a file (never followed out of the volume)'
      : `cannot be opened (${code ?? String(err)})`;
  return unsafe(`subPath "${subPath}" of ${volumeRoot} ${why}`);
}
