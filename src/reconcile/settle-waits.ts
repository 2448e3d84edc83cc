// Manifest files still being written (manifest/settle.ts) as waits of the plan: `berth plan` and
// `apply` say why such a file's last good content still applies, and the daemon wakes at a wait's
// `until` to read the file again (that file alone; a gone file's wake observes everything). Pure.
import type { LoadResult } from '../manifest/load.js';
import { SETTLE_MS } from '../manifest/settle.js';
import type { Action } from './plan.js';

export function settleWaits(loaded: LoadResult): Action[] {
  return loaded.settling.map(({ file, until, gone }) => ({
    kind: 'wait',
    pod: '',
    reason: gone
      ? `${file}: gone a moment ago: what it defined is removed once the folder has been still for ${SETTLE_MS / 1000} s (a file put back meanwhile changes nothing)`
      : `${file}: still being written: its last good content applies until it settles`,
    until,
    ...(gone ? {} : { file }),
  }));
}
