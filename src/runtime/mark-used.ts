// LAST USED of an image (`image ls`, and the order image GC removes images in): written when a
// container is created from the image or started. Best effort: a store that cannot record the
// time must not stop a container from starting; GC then sees the image as older than it is.
import type { ContentStore } from '../content/types.js';

/** Within this long of the recorded time nothing is rewritten (restart loops, create then start). */
export const LAST_USED_RESOLUTION_MS = 60_000;

export async function markImageUsed(store: ContentStore, name: string, at: Date): Promise<void> {
  await store.markUsed(name, at, LAST_USED_RESOLUTION_MS).catch(() => undefined);
}
