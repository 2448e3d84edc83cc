// Which folder of manifests each pod on the host came from, so that `apply DIR` prunes only the
// pods DIR made and leaves another folder's alone. Pure.
import type { DesiredState } from './desired.js';
import { ANNOTATION, type ObservedContainer, type ObservedState, OWNER_MANIFESTS } from './plan-types.js';
import { folderOf } from './sandbox.js';

const podOf = (c: ObservedContainer) => c.annotations[ANNOTATION.pod] as string;

/**
 * Each manifest-made pod on the host and its folder: its containers' manifest's, else its sandbox
 * record's. Undefined: a sandbox with neither (no container, set up before pods were recorded),
 * which holds no workload, so any apply tidies it.
 */
export function podFolders(observed: ObservedState): Map<string, string | undefined> {
  const folders = new Map<string, string | undefined>();
  for (const [pod, s] of observed.sandboxes) folders.set(pod, folderOf(s.source));
  for (const c of observed.containers) {
    const folder = folderOf(c.annotations[ANNOTATION.source]);
    // A container that names no source never takes a folder its sandbox recorded away.
    if (
      c.annotations[ANNOTATION.owner] === OWNER_MANIFESTS &&
      (folder !== undefined || !folders.has(podOf(c)))
    )
      folders.set(podOf(c), folder);
  }
  return folders;
}

/** The pods an apply of `folder` leaves alone because another folder's manifests made them. */
export function podsOfOtherFolders(
  observed: ObservedState,
  desired: DesiredState,
  folder: string,
): Array<{ pod: string; folder: string }> {
  const wanted = new Set(desired.pods.map((d) => d.name));
  return [...podFolders(observed)]
    .filter(([p, f]) => f !== undefined && f !== folder && !wanted.has(p))
    .map(([pod, f]) => ({ pod, folder: f as string }))
    .sort((a, b) => a.pod.localeCompare(b.pod));
}
