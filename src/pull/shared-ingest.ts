// A layer another download is already fetching (a second `berth pull` of the image, a daemon and a
// CLI, two images sharing a base): this pull waits for it to land instead of fetching it a second
// time over the same link, showing that writer's bytes as its progress, as containerd waits on an
// ingest ref held by another. If that writer goes without storing it (killed, failed), this pull
// fetches it itself, resuming what the other parked.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContentStore } from '../content/types.js';
import type { Descriptor } from '../oci/descriptor.js';

const POLL_MS = 100;

/** True once the blob is in the store by another's download; false when no one else is fetching it. */
export async function awaitOtherDownload(
  store: Pick<ContentStore, 'size' | 'liveWriter'>,
  desc: Descriptor,
  o: { signal?: AbortSignal; onProgress?: (held: number) => void } = {},
): Promise<boolean> {
  for (;;) {
    const writer = await store.liveWriter(desc.digest);
    // Committed (just now, maybe), parked, or never begun; a writer killed meanwhile left its file
    // for openIngest to resume (ingest-peers.ts).
    if (!writer) return (await store.size(desc.digest)) === desc.size; // one of another size is damaged
    o.onProgress?.(writer.held);
    await sleep(POLL_MS, undefined, o.signal ? { signal: o.signal } : {});
  }
}
