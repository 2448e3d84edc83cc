// The pods' names in their hosts files, for the adapter (adapter.ts): a joining holder's own file
// names every peer before its attach returns (`writeOwnNames`), and the peers' files are rewritten
// PEERS_NAMES_DELAY_MS after a join (`peersNames`: lib/later.ts, so a burst of joins makes one
// rewrite, and the joiner's start goes first), at once after a leave (`writeNames`, under the lock:
// the address may go to the next pod). Spares (spares.ts) are never named.
import { BerthError, formatErrorLine } from '../lib/errors.js';
import type { FileCache } from '../lib/file-cache.js';
import { type Later, later } from '../lib/later.js';
import { type Attachment, isSpareKey, listAttachments } from './attachments.js';
import { rewriteInPlaceSync } from './hosts-file.js';
import { hostsFileTexter, hostsOwner } from './hosts-texts.js';

/** How long after a pod joins its peers' hosts files are rewritten (settled() does it at once). */
export const PEERS_NAMES_DELAY_MS = 200;
const PEERS_NAMES_RETRY_MS = 5_000;

export interface NamesWriter {
  /** Rewrites every holder's hosts file from the records (the caller holds the bridge's lock). */
  writeNames(): Promise<void>;
  writeOwnNames(holder: Attachment, records: Attachment[]): void;
  peersNames: Later;
  /** Resolves once the peers' rewrite asked for is done; throws (ERR_NETWORK) while the last failed. */
  settled(): Promise<void>;
}

export function namesWriterOf(o: {
  network: string;
  attachments: string;
  fileCache?: FileCache | undefined;
  locked(fn: () => Promise<void>): Promise<void>;
}): NamesWriter {
  /**
   * Rewrites the hosts files of every holder from the records; a file that cannot be written is
   * skipped (a symlink planted in another pod's place).
   */
  async function writeNames(): Promise<void> {
    const records = (await listAttachments(o.attachments, o.fileCache)).filter(
      (a) => a.state === 'ready' && a.ip && !isSpareKey(a.key),
    );
    const owners = records.map(hostsOwner);
    const textOf = hostsFileTexter(owners);
    let written = 0;
    for (const [i, owner] of owners.entries()) {
      const file = records[i]?.hostsFile;
      if (!file) continue;
      try {
        rewriteInPlaceSync(file, textOf(owner));
      } catch {
        // a pod's hosts file gone or refused (a symlink planted there): the others are still written
      }
      // A few at a time: a container starting meanwhile is not held up by 300 rewrites.
      if (++written % 16 === 0) await new Promise((res) => setImmediate(res));
    }
  }

  /**
   * The joining holder's own hosts file, naming every peer in `records`: written before its record
   * says ready (a berth killed in between leaves a record that is set up again, never a ready pod
   * without the file its containers bind-mount); a failure fails the attach.
   */
  function writeOwnNames(holder: Attachment, records: Attachment[]): void {
    if (!holder.hostsFile) return;
    const own = hostsOwner(holder);
    const peers = records
      .filter((a) => a.key !== holder.key && a.state === 'ready' && a.ip && !isSpareKey(a.key))
      .map(hostsOwner);
    rewriteInPlaceSync(holder.hostsFile, hostsFileTexter([...peers, own])(own));
  }
  // The peers' rewrite, under the lock (one by another process, a CLI beside the daemon, never lands
  // after a newer one); one that failed (the lock not had in time, the records unreadable) is tried
  // again, and said by settled() until one succeeds.
  let namesFailed: BerthError | undefined;
  const peersNames = later(
    async () => {
      await o.locked(() => writeNames());
      namesFailed = undefined;
    },
    {
      delayMs: PEERS_NAMES_DELAY_MS,
      onError: (err) => {
        namesFailed = new BerthError(
          'ERR_NETWORK',
          'unavailable',
          `network ${o.network}: the pods' /etc/hosts were not rewritten: ${formatErrorLine(err)}`,
          { cause: err },
        );
        setTimeout(() => peersNames.ask(), PEERS_NAMES_RETRY_MS).unref();
      },
    },
  );
  return {
    writeNames,
    writeOwnNames,
    peersNames,
    async settled() {
      await peersNames.settled();
      if (namesFailed) throw namesFailed;
    },
  };
}
