// A container's runc state read from runc's own files, without running runc: `state.json` gives
// the init process and its start time; the process is alive if /proc/<pid>/stat shows that start
// time (a recycled pid does not); `exec.fifo` is there until `runc start`. One pass over 100
// containers costs file reads, not 100 process spawns.
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../lib/errors.js';

export type LiveState = 'created' | 'running' | 'stopped';

/** Field 22 of /proc/<pid>/stat (the start time), or undefined if the process is gone. */
export function startTimeOf(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const v = Number(fields[19]); // field 22 overall: the 20th after "pid (comm) "
  return Number.isFinite(v) ? v : undefined;
}

export async function readLiveState(
  runcRoot: string,
  id: string,
): Promise<{ state: LiveState; pid: number | null } | undefined> {
  let text: string;
  try {
    text = await readFile(join(runcRoot, id, 'state.json'), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  const s = JSON.parse(text) as { init_process_pid?: number; init_process_start?: number };
  const pid = s.init_process_pid ?? 0;
  const stat = pid > 0 ? await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined) : undefined;
  if (!stat || startTimeOf(stat) !== s.init_process_start || / Z /.test(stat.slice(stat.lastIndexOf(')')))) {
    return { state: 'stopped', pid: null };
  }
  const created = await access(join(runcRoot, id, 'exec.fifo')).then(
    () => true,
    () => false,
  );
  return { state: created ? 'created' : 'running', pid };
}
