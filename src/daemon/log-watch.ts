// The daemon's watch on containers' logs: at conmon's rotation (its rename over `container.log`),
// as soon as inotify reports it, the new live file is held and conmon's next one armed (`hold`, no
// lock: the step that must come before conmon's next rotation), then the rotated files are
// renamed (`look`; both in log-rotation.ts), so a container that writes fast keeps them all. One watch on `containers/` (bundles
// come and go) and one on each bundle directory (not recursive: writes into the container's
// upper/ are not seen). Every container is looked at once at the start, for what rotated while no
// daemon ran.
//
// Invariants: holds of one container never overlap, nor do its looks (a rename during one asks
// for one more after it); a look's failure is reported and the next rename tries again; `close` ends every
// watch, and looks under way finish on their own.
import { type FSWatcher, watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

const BUNDLE_ID = /^[a-f0-9]{32}$/;

export interface LogWatchOptions {
  containersDir: string;
  /** The live log's name in a bundle (conmon renames its new file to it). */
  logName: string;
  hold(id: string): Promise<void>;
  look(id: string): Promise<void>;
  onError(err: unknown): void;
}

export interface LogWatch {
  close(): void;
}

export async function watchContainerLogs(o: LogWatchOptions): Promise<LogWatch> {
  const watches = new Map<string, FSWatcher>();
  let closed = false;
  const hold = coalesce(o.hold, o.onError, () => closed);
  const look = coalesce(o.look, o.onError, () => closed);
  const follow = (id: string) => {
    if (closed || watches.has(id) || !BUNDLE_ID.test(id)) return;
    let w: FSWatcher;
    try {
      w = watch(join(o.containersDir, id), (event, file) => {
        if (event !== 'rename' || file !== o.logName) return;
        hold(id);
        look(id);
      });
    } catch {
      return; // removed meanwhile
    }
    w.on('error', () => unfollow(id)); // the bundle was removed
    watches.set(id, w);
  };
  const unfollow = (id: string) => {
    watches.get(id)?.close();
    watches.delete(id);
  };
  const top = watch(o.containersDir, (_event, file) => {
    if (typeof file !== 'string' || !BUNDLE_ID.test(file)) return;
    // A new bundle: follow it and look (conmon may have rotated already); a removed one: drop it.
    unfollow(file);
    follow(file);
    if (watches.has(file)) look(file);
  });
  top.on('error', (err) => o.onError(err));
  for (const id of await readdir(o.containersDir)) {
    follow(id);
    if (watches.has(id)) look(id);
  }
  return {
    close() {
      closed = true;
      top.close();
      for (const id of [...watches.keys()]) unfollow(id);
    },
  };
}

/**
 * Runs `fn` for an id, never twice at once for one id: asked again meanwhile, it runs once more
 * after (asked ten times meanwhile, still once).
 */
function coalesce(
  fn: (id: string) => Promise<void>,
  onError: (err: unknown) => void,
  closed: () => boolean,
): (id: string) => void {
  const busy = new Map<string, boolean>(); // id → asked again while running
  const run = (id: string): Promise<void> =>
    fn(id)
      .catch(onError)
      .then(() => {
        if (busy.get(id) && !closed()) {
          busy.set(id, false);
          return run(id);
        }
        busy.delete(id);
      });
  return (id) => {
    if (busy.has(id)) {
      busy.set(id, true);
      return;
    }
    busy.set(id, false);
    void run(id);
  };
}
