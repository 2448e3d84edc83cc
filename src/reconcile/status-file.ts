// `<state>/reconcile.json` on disk: read (a missing or unreadable file is an empty status) and
// replaced atomically, only when it changed. The object remembers the text it last read or wrote,
// so a daemon's passes do not read the file back: while a daemon runs, only it reconciles (the
// reconcile lock; `apply` goes through its socket).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/write-atomic.js';
import type { ReconcileStatus } from './status.js';

export const statusPath = (state: string) => join(state, 'reconcile.json');

export interface StatusFile {
  read(): ReconcileStatus | undefined;
  write(status: ReconcileStatus): Promise<void>;
}

export function statusFile(path: string): StatusFile {
  let known: { text: string; status: ReconcileStatus | undefined } | undefined;
  return {
    read() {
      if (!known) {
        let text = '';
        try {
          text = readFileSync(path, 'utf8');
        } catch {
          // none yet
        }
        let status: ReconcileStatus | undefined;
        try {
          status = JSON.parse(text) as ReconcileStatus;
        } catch {
          // unreadable: an empty status
        }
        known = { text, status };
      }
      return known.status;
    },
    async write(status) {
      const text = `${JSON.stringify(status, null, 2)}\n`;
      if (known?.text === text) return; // a no-op pass writes nothing
      await writeFileAtomic(path, text, 0o600);
      known = { text, status };
    },
  };
}
