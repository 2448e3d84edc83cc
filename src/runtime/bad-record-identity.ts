// Who a container with an unreadable record is. Its record is gone, but while it runs its conmon
// still carries `--cid <id> --name <name>` in its argv: enough to keep the name taken (create) and
// its pod from being created a second time beside it (the reconciler). A record whose container
// cannot be identified at all is reported with no name: callers must then assume any name.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BadRecord, readRecordsReport } from './record.js';

export interface BadRecordIdentity {
  id: string;
  path: string;
  /** The container's name, when anything on disk still says it. */
  name?: string;
  /** No name, yet runc still has state for it: it may be running (its conmon killed) as anything. */
  mayRun?: boolean;
}

/** The `--name` of conmon's argv, if `cmdline` (NUL-separated) is the conmon of container `id`. */
export function conmonName(cmdline: string, id: string): string | undefined {
  const argv = cmdline.split('\0');
  const at = (flag: string) => {
    const i = argv.indexOf(flag);
    return i === -1 ? undefined : argv[i + 1];
  };
  return at('--cid') === id ? at('--name') : undefined;
}

function readName(containersDir: string, bad: BadRecord): string | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(containersDir, bad.id, 'conmon.pid'), 'utf8').trim(), 10);
    if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
    return conmonName(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), bad.id);
  } catch {
    return undefined; // no conmon.pid, or no such process: nothing runs under this name
  }
}

/** Every bad record of `containersDir`, with its container's name where it can be recovered. */
export function badRecordIdentities(containersDir: string, runcRoot?: string): BadRecordIdentity[] {
  return readRecordsReport(containersDir).bad.map((b) => {
    const name = readName(containersDir, b);
    if (name) return { id: b.id, path: b.path, name };
    const mayRun = runcRoot !== undefined && existsSync(join(runcRoot, b.id));
    return { id: b.id, path: b.path, ...(mayRun ? { mayRun } : {}) };
  });
}
