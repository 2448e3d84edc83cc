// Killing what a hung create or exec left running: the processes under given roots, found through
// /proc (each process's parent, field 4 of /proc/<pid>/stat), all stopped before any is killed: a
// killed parent's children are adopted elsewhere (in a container, by its init) and could no longer
// be found, and a stopped one forks no more, so the tree is read again until nothing new appears.
// A SIGSTOP takes effect only when its process next leaves the kernel: one in the middle of a fork
// finishes it first. So the tree is read again only once each signalled process shows as stopped
// (or dead): a child forked meanwhile is in /proc by then, below a parent already found.
import { readdirSync, readFileSync } from 'node:fs';

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

/** The state letter of a process (field 3 of its stat), undefined when it is gone. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2];
  } catch {
    return undefined;
  }
}

/** Stopped, traced, dead or gone: forking no more. */
const still = (pid: number) => {
  const state = processState(pid);
  return state === undefined || 'TtZX'.includes(state);
};

/**
 * How long a round waits for its stops to take effect: a process in uninterruptible sleep (a vfork
 * parent whose child was stopped before its exec) never shows as stopped, and forks no more either.
 */
const SETTLE_MS = 50;

/** Waits until every one of `pids` forks no more, or `until` (a process stuck in the kernel). */
async function settled(pids: number[], until: number): Promise<void> {
  let waiting = pids.filter((p) => !still(p));
  while (waiting.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1));
    waiting = waiting.filter((p) => !still(p));
  }
}

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
    await settled(fresh, Date.now() + SETTLE_MS);
  }
  const pids = [...stopped];
  for (const pid of pids) signal(pid, 'SIGKILL');
  const until = Date.now() + ms;
  // A killed child stays a zombie until its parent reaps it: gone enough for what it held.
  const gone = (pid: number) => {
    const state = processState(pid);
    return state === undefined || state === 'Z' || state === 'X';
  };
  while (!pids.every(gone)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
