// `<state>/health.json` as the planner and the daemon's trigger read it: only a regular file of at
// most 16 MiB, opened without following a symlink or blocking on a FIFO, so nothing planted there can
// hang a pass or fill memory; its content is then read by readHealth's rules (health/health-file.ts),
// and counts only while the daemon that wrote it runs (a dead daemon's results are no one's: as ps).
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { type HealthFile, readHealth } from '../health/health-file.js';
import { isProcessAlive } from '../lib/process.js';

export const MAX_HEALTH_BYTES = 16 * 1024 * 1024;

/** The health file, or none when it is missing, unreadable or not a bounded regular file. */
export function observeHealth(path: string): HealthFile | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_HEALTH_BYTES) return undefined;
    // The very file checked, read through its descriptor (no second lookup of the path).
    const h = readHealth(`/proc/self/fd/${fd}`);
    return h && Number.isInteger(h.pid) && h.pid > 0 && isProcessAlive(h.pid) ? h : undefined;
  } finally {
    closeSync(fd);
  }
}
