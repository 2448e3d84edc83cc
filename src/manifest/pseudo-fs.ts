// File systems whose files the kernel makes as they are read: /proc, /sys and their kin. A manifest
// folder's link to one (`/proc/kmsg`, a tracefs `trace_pipe`) would have each pass read, and so
// consume, what others are owed, and their sizes (0, 4096) say nothing of what a read returns. A
// manifest is never such a file. Told by statfs's f_type (linux/magic.h).
import { statfsSync } from 'node:fs';

const PSEUDO: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x62656570, 'configfs'],
  [0xde5e81e4, 'efivarfs'],
  [0xcafe4a11, 'bpf'],
  [0x6e736673, 'nsfs'],
  [0x50495045, 'pipefs'],
]);

/** The name of the pseudo file system `path` is on, or undefined (a real one, or not to be told). */
export function pseudoFileSystemOf(path: string): string | undefined {
  try {
    return PSEUDO.get(Number(statfsSync(path).type));
  } catch {
    return undefined; // gone meanwhile: the open that follows says so
  }
}
