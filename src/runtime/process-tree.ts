// Killing what a hung create or exec left running: the processes under given roots, found through
// /proc (each process's parent, field 4 of /proc/<pid>/stat), all stopped before any is killed: a
// killed parent's children are adopted elsewhere (in a container, by its init) and could no longer
// be found, and a stopped one forks no more, so the tree is read again until nothing new appears.
import { readdirSync, readFileSync } from 'node:fs';
import { isProcessAlive } from '../lib/process.js';

/** Parent pid of each process: `pid (comm) state ppid …`; comm may hold spaces and parentheses. */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(Number(name), ppid);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The roots that still exist and every process below them. */
export function processTree(roots: number[]): number[] {
  const parentOf = parents();
  const found = new Set(roots.filter((p) => p > 0 && parentOf.has(p)));
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (found.has(ppid) && !found.has(pid)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  return [...found];
}

const signal = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
};

/** How often the tree is read again for children forked before their parent stopped. */
const MAX_STOP_ROUNDS = 50;

/** SIGKILL the tree under `roots`; resolves once each is gone (false if one outlived `ms`). */
export async function killTree(roots: number[], ms = 5000): Promise<boolean> {
  const stopped = new Set<number>();
  for (let round = 0; round < MAX_STOP_ROUNDS; round++) {
    const fresh = processTree(roots.concat([...stopped])).filter((p) => !stopped.has(p));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      signal(pid, 'SIGSTOP');
      stopped.add(pid);
    }
  }
  const pids = [...stopped];
  for (const pid of pids) signal(pid, 'SIGKILL');
  const until = Date.now() + ms;
  // A killed child stays a zombie until its parent reaps it: gone enough for what it held.
  const gone = (pid: number) => {
    if (!isProcessAlive(pid)) return true;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
    } catch {
      return true;
    }
  };
  while (!pids.every(gone)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
