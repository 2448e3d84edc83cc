// Killing what a hung create left running: the processes under given roots, found through /proc
// (each process's parent, field 4 of /proc/<pid>/stat), all collected before any is killed (a
// killed parent's children are adopted elsewhere and could no longer be found).
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

/** SIGKILL the tree under `roots`; resolves once each is gone (false if one outlived `ms`). */
export async function killTree(roots: number[], ms = 5000): Promise<boolean> {
  const pids = processTree(roots);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
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
