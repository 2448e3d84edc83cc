// What /proc says of processes' open files, for the writer check (open-writers.ts): the PIDs, the
// last PID handed out, each process's descriptors and where they point, and whether one is open for
// writing (`flags:` in fdinfo). A process gone or unreadable between two reads is skipped: every
// read here answers "nothing" rather than fail.
//
// A descriptor's link names its file as seen from the process's own root: a container's process
// that opened `/etc/berth/manifests/web.yaml` in its own root file system shows that very path
// here. So a path is only a hint; a writer counts only when the descriptor's file is the target
// itself: the same file system (its mount's major:minor) and inode, as /proc tells them, never by
// following the descriptor into the writer's file (a FUSE mount could hold that stat forever).
import {
  closeSync,
  constants,
  type Dir,
  type Dirent,
  opendirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { O_PATH } from '../lib/o-path.js';
import type { PidCycle } from './pid-order.js';

/** O_WRONLY | O_RDWR: the access-mode bits of `flags:` in /proc/PID/fdinfo/FD (octal). */
const WRITE_MODES = 0o3;

/** The PIDs /proc lists, `self` aside; none when it cannot be listed. */
export function listPids(proc: string, self: number): string[] {
  try {
    return readdirSync(proc).filter((p) => /^[0-9]+$/.test(p) && p !== String(self));
  } catch {
    return [];
  }
}

/** The last PID the kernel handed out (/proc/loadavg) and pid_max; undefined when /proc says neither. */
export function lastPid(proc: string): PidCycle | undefined {
  try {
    const last = Number(
      readFileSync(join(proc, 'loadavg'), 'utf8').trim().split('/').pop()?.split(/\s+/).pop(),
    );
    const max = Number(readFileSync(join(proc, 'sys', 'kernel', 'pid_max'), 'utf8').trim());
    return Number.isInteger(last) && Number.isInteger(max) && max > 0 ? { last, max } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A process's descriptors, read a batch at a time: a process may hold a million (a container's
 * RLIMIT_NOFILE is 1048576), about 7 s of readlinks, and the daemon reads on its own thread, so a
 * poll's budget must hold inside one process too. `dir` is undefined once read whole (closed) or
 * when the process is gone.
 */
export interface FdReader {
  pid: string;
  dir: Dir | undefined;
}

/** Descriptors read between two looks at the clock (a few ms at most). */
export const FD_BATCH = 256;

export function openFds(proc: string, pid: string): FdReader {
  try {
    return { pid, dir: opendirSync(join(proc, pid, 'fd'), { bufferSize: FD_BATCH }) };
  } catch {
    return { pid, dir: undefined }; // gone, or not ours to read
  }
}

/** Closes what `r` holds (a reader dropped before its end). */
export function closeFds(r: FdReader): void {
  try {
    r.dir?.closeSync();
  } catch {
    // closed already
  }
  r.dir = undefined;
}

/**
 * The next FD_BATCH of `r`'s descriptors whose target `wanted` accepts (`[fd, target]`), and
 * whether every descriptor has now been read (then `r` is closed).
 */
export function readFds(
  proc: string,
  r: FdReader,
  wanted: (target: string) => boolean,
): { found: Array<[fd: string, target: string]>; done: boolean } {
  const found: Array<[string, string]> = [];
  for (let i = 0; i < FD_BATCH; i++) {
    let entry: Dirent | null | undefined;
    try {
      entry = r.dir?.readSync();
    } catch {
      entry = undefined; // the process ended while read
    }
    if (!entry) {
      closeFds(r);
      return { found, done: true };
    }
    try {
      const target = readlinkSync(join(proc, r.pid, 'fd', entry.name));
      if (wanted(target)) found.push([entry.name, target]);
    } catch {
      // closed meanwhile
    }
  }
  return { found, done: false };
}

/**
 * What one pass learnt of files' identities, so that each process's mountinfo and each target's
 * identity are read once a pass, however many descriptors name the target's path (a container's
 * process can hold a million, each of its own file of that path; a local user's mount namespace
 * can hold 100,000 mounts, a mountinfo of megabytes).
 */
export class Identities {
  private readonly devices = new Map<string, Map<string, string>>();
  private readonly targets = new Map<string, FdIdentity | undefined>();

  constructor(private readonly proc: string) {}

  /** The major:minor of mount `mnt` as process `pid` (or 'self') sees its mounts. */
  device(pid: string, mnt: string): string | undefined {
    let byMount = this.devices.get(pid);
    if (!byMount) {
      byMount = new Map();
      try {
        for (const line of readFileSync(join(this.proc, pid, 'mountinfo'), 'utf8').split('\n')) {
          const [id, , device] = line.split(' ', 3);
          if (id && device) byMount.set(id, device);
        }
      } catch {
        // gone: it names no mount
      }
      this.devices.set(pid, byMount);
    }
    return byMount.get(mnt);
  }

  /** `target`'s identity, through a descriptor of this process's own (undefined: not there). */
  target(target: string): FdIdentity | undefined {
    if (!this.targets.has(target)) this.targets.set(target, this.readTarget(target));
    return this.targets.get(target);
  }

  private readTarget(target: string): FdIdentity | undefined {
    try {
      const fd = openSync(target, O_PATH | constants.O_NOFOLLOW);
      try {
        return fdIdentity(readFileSync(join(this.proc, 'self', 'fdinfo', String(fd)), 'utf8'));
      } finally {
        closeSync(fd);
      }
    } catch {
      return undefined;
    }
  }
}

/** A descriptor's mount and inode as its fdinfo says (a kernel before 5.14 says neither). */
interface FdIdentity {
  mnt: string;
  ino: string;
}

function fdIdentity(fdinfo: string): FdIdentity | undefined {
  const mnt = /^mnt_id:\s+([0-9]+)$/m.exec(fdinfo)?.[1];
  const ino = /^ino:\s+([0-9]+)$/m.exec(fdinfo)?.[1];
  return mnt === undefined || ino === undefined ? undefined : { mnt, ino };
}

/**
 * Whether `pid` has `target` open for writing as `fd` now (not closed, nor the number reused): the
 * same inode on the same file system (its mount's major:minor), as /proc tells them without touching
 * the file itself (a FUSE file system a local user mounted could hold a stat of it forever, and the
 * daemon's thread with it). Mount IDs are unique on the host, so the same mount needs no mountinfo;
 * a mount the process's own mountinfo does not list (it moved to a namespace of its own, keeping the
 * descriptor) is not the target's. `ids`: what this pass has read already.
 */
export function isOpenForWriting(
  proc: string,
  pid: string,
  fd: string,
  target: string,
  ids: Identities = new Identities(proc),
): boolean {
  try {
    if (readlinkSync(join(proc, pid, 'fd', fd)) !== target) return false;
    const info = readFileSync(join(proc, pid, 'fdinfo', fd), 'utf8');
    const flags = /^flags:\s+([0-7]+)$/m.exec(info)?.[1];
    if (flags === undefined || (Number.parseInt(flags, 8) & WRITE_MODES) === 0) return false;
    const theirs = fdIdentity(info);
    if (theirs === undefined) return true; // a kernel before 5.14: the path is all there is to go by
    const mine = ids.target(target);
    if (mine === undefined || theirs.ino !== mine.ino) return false;
    if (theirs.mnt === mine.mnt) return true;
    const device = ids.device(pid, theirs.mnt);
    return device !== undefined && device === ids.device('self', mine.mnt);
  } catch {
    return false;
  }
}
