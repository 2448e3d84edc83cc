// A pod's activeDeadlineSeconds with the digest of its manifest: a start recorded for one manifest
// does not count for a changed one (reconcile/active-deadline.ts). Pure.
import { createHash } from 'node:crypto';
import type { PodManifest } from './kinds.js';

export interface ActiveDeadline {
  seconds: number;
  /** Digest of the pod's metadata and spec. */
  manifest: string;
}

export function activeDeadlineOf(pod: PodManifest): ActiveDeadline | undefined {
  const seconds = pod.spec.activeDeadlineSeconds;
  if (seconds === undefined) return undefined;
  const manifest = createHash('sha256')
    .update(JSON.stringify({ metadata: pod.metadata, spec: pod.spec }))
    .digest('hex')
    .slice(0, 16);
  return { seconds, manifest };
}
