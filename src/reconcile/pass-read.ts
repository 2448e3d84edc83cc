// How reconcile reads the manifests folder, in one place for everything that must see what a pass
// sees: `plan`, the passes of `apply` and of the daemon, and image GC's wanted images. A broken file
// counts with its last good content, and so does a file whose pods desired state cannot build
// (`buildable`: file-problems.ts). Read any other way, GC would count such a file's new images as
// wanted and those of the last good content the pass applies as not, and under disk pressure
// collect an image the pod still needs. A watching daemon's reads also hold a file just deleted
// until the folder settles (`holdDeleted`). Pure.
import type { LastGood } from '../manifest/last-good.js';
import type { LoadOptions } from '../manifest/load.js';
import type { HostLayout } from './desired.js';
import { buildable } from './file-problems.js';

/** What of a reconciler (loop.ts) the read needs. */
export interface PassReader {
  host: HostLayout;
  now: () => number;
  lastGood?: LastGood;
}

/** The load options of a pass; `watching`: the daemon's (a deleted file is held while the folder settles). */
export function passReadOptions(r: PassReader, o: { watching?: boolean } = {}): LoadOptions {
  return {
    lastGood: r.lastGood,
    now: r.now(),
    buildable: buildable(r.host),
    ...(o.watching ? { holdDeleted: true } : {}),
  };
}
