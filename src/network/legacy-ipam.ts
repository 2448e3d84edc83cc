// A root of the version before: its host-local allocations (under --state) moved into the bridge's
// shared directory (ipam-store.ts), and a holder whose untagged id another root's had already moved
// in under this root's tag given that id in its record (its DEL then frees its own address only).
// The caller holds the bridge's lock.
import { type networkDirs, readAttachment, writeAttachment } from './attachments.js';
import { type IpamStore, importLegacyAllocations } from './ipam-store.js';

export async function moveLegacyIn(
  store: IpamStore,
  dirs: ReturnType<typeof networkDirs>,
  network: string,
  tag: string,
) {
  for (const r of await importLegacyAllocations(store, dirs.ipam, network, tag)) {
    const held = await readAttachment(dirs.attachments, r.from.slice('berth-'.length));
    if (held && !held.cniId) await writeAttachment(dirs.attachments, { ...held, cniId: r.to });
  }
}
