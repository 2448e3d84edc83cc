// Which process is a container's conmon. A pid alone proves nothing: after a reboot, or a wrap of
// the pid counter, the pid in `conmon.pid` may be another program's, or another container's conmon.
// A process is container `id`'s conmon only while its argv says `--cid <id>`; one that has ended
// but was not reaped (a zombie) writes nothing more and counts as gone.
import { readFileSync } from 'node:fs';

/** The `--cid` and `--name` of a conmon's argv (NUL-separated `cmdline`); undefined if not conmon's. */
export function conmonIdentity(cmdline: string): { id: string; name?: string } | undefined {
  const argv = cmdline.split('\0');
  const at = (flag: string) => {
    const i = argv.indexOf(flag);
    return i === -1 ? undefined : argv[i + 1];
  };
  const id = at('--cid');
  if (id === undefined) return undefined;
  const name = at('--name');
  return name === undefined ? { id } : { id, name };
}

/** The identity of live process `pid`, if it is a conmon that has not ended. */
function liveConmon(pid: number): { id: string; name?: string } | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); // `pid (comm) STATE …`
    if (['Z', 'X', 'x'].includes(stat.charAt(stat.lastIndexOf(')') + 2))) return undefined;
    return conmonIdentity(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return undefined; // no such process
  }
}

/** Whether `pid` is a live conmon started for container `id`. */
export function isConmonOf(pid: number, id: string): boolean {
  return liveConmon(pid)?.id === id;
}

/** The pid in a container's `conmon.pid` while it is that container's live conmon, with its name. */
export function conmonOf(pidFile: string, id: string): { pid: number; name?: string } | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  } catch {
    return undefined;
  }
  const found = liveConmon(pid);
  return found?.id === id ? { pid, ...(found.name !== undefined ? { name: found.name } : {}) } : undefined;
}
