// Which lock a container name's create holds, from its name check until its record is written:
// without it two creates of one name at once (two API clients, a CLI beside the daemon) both
// found the name free and both made a container. Lock files are never removed (that could hand a
// lock to two holders), so names share NAME_LOCK_BUCKETS of them instead of leaving one file per
// name ever used; two creates of different names wait for each other only when they share one.
// Pure.
import { createHash } from 'node:crypto';

export const NAME_LOCK_BUCKETS = 64;

/** The lock purpose (content/lock.ts) of a container name. */
export function nameLockPurpose(name: string): string {
  const bucket = (createHash('sha256').update(name).digest()[0] as number) % NAME_LOCK_BUCKETS;
  return `name-${bucket}`;
}
