// The content store: a plain OCI image layout under `<root>/content` (oci-layout, index.json,
// blobs/<alg>/<hex>), so skopeo and umoci read it as-is, plus `<root>/ingest` for downloads.
//
// Pieces: paths.ts (every path, digests validated first), ingest.ts (resumable verified writes),
// index-file.ts (index.json ↔ ImageRecord, atomic rewrite), lock.ts (the store mutex),
// lease.ts (in-flight content), gc.ts (mark and sweep, ingest tidying), store.ts (the factory),
// damaged-blob.ts (a committed blob whose bytes changed on disk, found by its next reader, taken out),
// ingest-progress.ts and ingest-peers.ts (a download's progress for unpackers, another live writer),
// partial-age.ts and partial-stamp.ts (a parked download's age by boot), reserve.ts (the space
// reserve), image-names.ts (which image a name means: one given to entries of two digests means
// none), fsync.ts, types.ts (the port). README.md says more.
//
// Invariants:
// - A blob appears under blobs/ only by rename after its size and digest were verified and the
//   file was fsynced; a reader never sees a partial blob.
// - Writers never share a file: each has its own `.active` file; a parked `.partial` is claimed by
//   rename, which exactly one claimant wins. Two writers of one blob both succeed (same bytes).
// - index.json is only rewritten under the store lock, by temp file + fsync + rename.
// - The store lock is a kernel record lock on `<root>/locks/store.lock` (a 0700 directory, so only
//   root can take it): the kernel releases it when its holder dies, so a kill -9 at any moment
//   leaves no stale lock; leftovers in ingest/ are tidied by cleanIngest.
// - Files of work in progress (leases, `.active`, temp files) are named after their process's owner
//   token (pid, start time, boot id): a pid reused after a reboot never keeps them alive.
// - GC runs under the lock and only while no live process holds a lease; pulls add every digest
//   to their lease before writing or relying on it and name the image before releasing it.
export { ambiguousName, ambiguousNames, distinctEntries, entriesNamed, imageNamed } from './image-names.js';
export { acquireLock, acquireStoreLock, withStoreLock } from './lock.js';
export { type ContentStoreOptions, createContentStore } from './store.js';
export type { ContentStore, GcResult, ImageRecord, IngestWriter, Lease } from './types.js';
