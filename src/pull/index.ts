// Pulling an image: resolve a reference at its registry, choose the platform, fetch config and
// layers into the content store, then name the image in index.json.
//
// Invariants:
// - Nothing reaches the store unverified (the store checks size and digest on commit).
// - Every digest is added to a lease before it is written or relied on, and the lease is released
//   only after the image is named, so a concurrent `image prune` never takes content mid-pull.
// - Blobs already in the store whole are not fetched again (one of the wrong size, or one an unpack
//   found damaged, is); a download cut by a temporary failure or a cancel is parked and the next
//   pull resumes it with a Range request (bytes that fail their digest are thrown away).
// - The image is named last: a pull that fails leaves the old name (if any) untouched.

export type { PullDeps, PullEvent, PullOptions, PullResult } from './pull-image.js';
export { pullImage } from './pull-image.js';
