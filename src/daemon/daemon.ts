// The daemon's loop: passes as PassScheduler says, watching the manifests folder (and its parent,
// for a folder swapped through a symlink) and conmon's exit files for triggers. Returns when
// `signal` aborts; containers are left running.
import { watch as fsWatch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { watch } from 'chokidar';
import { makeDirs } from '../lib/make-dirs.js';
import type { ParseCache } from '../manifest/load.js';
import type { ExecuteDeps } from '../reconcile/execute.js';
import { type ApplyResult, applyOnce, type Reconciler } from '../reconcile/loop.js';
import { PassScheduler } from './triggers.js';

export interface DaemonOptions {
  dir: string;
  debounceMs: number;
  resyncMs: number;
  signal: AbortSignal;
  execute: Omit<ExecuteDeps, 'rt' | 'host'>;
  /** After each pass: what it did, and the CPU it took (ms). */
  onPass?(result: ApplyResult, cpuMs: number): void;
  onError?(err: unknown): void;
}

export async function runDaemon(r: Reconciler, o: DaemonOptions): Promise<void> {
  const dir = resolve(o.dir);
  const scheduler = new PassScheduler(o.debounceMs, o.resyncMs);
  const cache: ParseCache = new Map(); // unchanged files are not parsed again
  let wake: (() => void) | undefined;
  const trigger = () => {
    scheduler.trigger(Date.now());
    wake?.();
  };
  const watcher = watch([dir, dirname(dir)], { ignoreInitial: true, depth: 1, atomic: true });
  watcher.on('all', (_event, path) => {
    if (path.startsWith(dir) || basename(path) === basename(dir)) trigger();
  });
  watcher.on('error', (err) => o.onError?.(err));
  await makeDirs(r.rt.paths.exits);
  const exits = fsWatch(r.rt.paths.exits, () => trigger()); // a container exited: look now
  const stopped = new Promise<void>((res) => o.signal.addEventListener('abort', () => res(), { once: true }));
  try {
    while (!o.signal.aborted) {
      scheduler.passStarted(Date.now());
      try {
        const cpu = process.cpuUsage();
        const result = await applyOnce(r, dir, o.execute, cache);
        const used = process.cpuUsage(cpu);
        for (const a of result.remaining) if (a.kind === 'wait' && a.until) scheduler.wakeAt(a.until);
        o.onPass?.(result, (used.user + used.system) / 1000);
      } catch (err) {
        o.onError?.(err); // an unreadable folder, say: keep everything, try again later
      }
      const delay = Math.max(0, scheduler.dueAt() - Date.now());
      await Promise.race([
        stopped,
        new Promise<void>((res) => {
          const t = setTimeout(res, delay);
          wake = () => {
            clearTimeout(t);
            // Debounce: the scheduler says when, counting from the first trigger.
            setTimeout(res, Math.max(0, scheduler.dueAt() - Date.now()));
          };
        }),
      ]);
      wake = undefined;
    }
  } finally {
    exits.close();
    await watcher.close();
  }
}
