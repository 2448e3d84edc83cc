// A trigger when the prober's findings change what a dependency gate sees (`berth.dev/depends-on`):
// whether a container (by id) is started or ready in `<state>/health.json`. The daemon then looks
// again at once, not at its next resync. Nothing else in the file counts: a probe's time and message
// change at every period and must not cost a pass each.
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { HealthFile } from '../health/health-file.js';
import { makeDirs } from '../lib/make-dirs.js';
import { observeHealth } from '../reconcile/observe-health.js';

/** What a gate reads of a health file: each container's id, started and ready. */
export function gateSignature(h: HealthFile | undefined): string {
  if (!h) return '';
  // Written by the daemon, but read as anything: an entry that is not an object counts as none.
  return Object.entries(h.containers)
    .filter(([, c]) => c !== null && typeof c === 'object')
    .map(([name, c]) => `${name}\0${String(c.id)}\0${c.started === true}\0${c.ready === true}`)
    .sort()
    .join('\n');
}

/** Calls `trigger` whenever the gates' view of `path` changes (the file is replaced atomically). */
export async function watchHealthGates(path: string, trigger: () => void): Promise<{ close(): void }> {
  await makeDirs(dirname(path));
  let last = gateSignature(observeHealth(path));
  const name = basename(path);
  const watcher: FSWatcher = watch(dirname(path), (_event, file) => {
    if (file !== name) return;
    const now = gateSignature(observeHealth(path));
    if (now === last) return;
    last = now;
    trigger();
  });
  return { close: () => watcher.close() };
}
