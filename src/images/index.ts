// Images as users see them: named entries of the content store, described by their manifest and
// config, found by reference or by ID (the config digest, as Docker and containerd show it).
// gc-plan.ts (pure) and disk-gc.ts: which unused images go when the store's file system fills up.
export { describeImage, type ImageDetails } from './describe.js';
export { findImage, findImages } from './find.js';
export { type PruneResult, pruneImages, unpackedSize } from './prune.js';
