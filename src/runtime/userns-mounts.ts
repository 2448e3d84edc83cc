// Read-only binds in a user namespace: runc 1.1 remounts a bind read-only with only the flags the
// spec names, and the kernel refuses (EPERM) to drop a flag of the source mount that is locked for
// a less privileged namespace (nosuid, nodev, noexec, the atime mode): a Secret's tmpfs is
// nosuid,nodev. So the source mount's flags are carried into the spec. `lockedFlags` is pure.
import { readFile, realpath } from 'node:fs/promises';
import { decodeMountinfoField } from '../lib/mountinfo.js';
import type { ContainerMount } from './spec.js';

const LOCKED = ['nosuid', 'nodev', 'noexec', 'noatime', 'nodiratime'];

/** The locked flags of the mount holding `path` (resolved), from mountinfo text. */
export function lockedFlags(mountinfo: string, path: string): string[] {
  let best: { point: string; options: string } | undefined;
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const point = f[4] === undefined ? undefined : decodeMountinfoField(f[4]);
    if (!point || !f[5]) continue;
    const under = point === '/' || path === point || path.startsWith(`${point}/`);
    // The last listed of equal length is the one on top.
    if (under && (!best || point.length >= best.point.length)) best = { point, options: f[5] };
  }
  const options = best?.options.split(',') ?? [];
  return LOCKED.filter((o) => options.includes(o));
}

/** Each read-only bind with its source mount's locked flags. */
export async function withLockedFlags(mounts: ContainerMount[]): Promise<ContainerMount[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const out: ContainerMount[] = [];
  for (const m of mounts) {
    if (m.kind === 'tmpfs' || !m.readOnly) {
      out.push(m);
      continue;
    }
    const flags = lockedFlags(info, await realpath(m.source).catch(() => m.source));
    out.push(flags.length > 0 ? { ...m, flags } : m);
  }
  return out;
}
