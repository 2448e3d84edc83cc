// Pods the planner must keep exactly as they run, with why: a pod whose file has errors (and no last
// good content), one defined twice, one desired state could not build, and one whose container's
// record is unreadable (never create a second copy beside a container berth cannot read; a standalone
// container holds none). Pure.
import { identityOfPodKey } from '../manifest/identity.js';
import type { LoadResult } from '../manifest/load.js';
import type { DesiredPod, DesiredState } from './desired.js';
import { ANNOTATION, type ObservedState, OWNER_MANIFESTS } from './plan-types.js';

export function frozenPods(
  loaded: LoadResult,
  observed: ObservedState,
  desired?: DesiredState,
): Map<string, string> {
  const frozen = new Map<string, string>();
  for (const u of desired?.unusable ?? [])
    if (u.kind === 'Pod') frozen.set(u.name, `${u.diagnostic.file} has errors`);
  for (const c of observed.containers) {
    if (c.annotations[ANNOTATION.owner] !== OWNER_MANIFESTS) continue;
    const pod = c.annotations[ANNOTATION.pod] as string;
    const source = c.annotations[ANNOTATION.source] ?? '';
    if (loaded.brokenFiles.includes(source)) frozen.set(pod, `${source} has errors`);
  }
  for (const key of loaded.duplicates)
    if (key.startsWith('Pod/')) frozen.set(identityOfPodKey(key), 'defined more than once');
  for (const b of observed.badRecords ?? []) {
    const why = `the record of ${b.id} is unreadable`;
    for (const pod of heldBy(b, desired)) if (b.pod || !frozen.has(pod)) frozen.set(pod, why);
  }
  return frozen;
}

/** The pods a container with an unreadable record may belong to. */
function heldBy(b: NonNullable<ObservedState['badRecords']>[number], desired?: DesiredState): string[] {
  const pods = desired?.pods ?? [];
  if (b.pod) return [b.pod];
  // Owner unknown (its bundle from an older berth, or damaged too), its name known: the pods with a
  // container of exactly that runtime name, never a pod guessed from a part of the name.
  if (b.name) return pods.filter((p) => hasRuntimeName(p, b.name as string)).map((p) => p.name);
  // No name, possibly running: any pod could be its; create none beside it (unmatched ones go too).
  return b.mayRun ? pods.map((p) => p.name) : [];
}

function hasRuntimeName(pod: DesiredPod, name: string): boolean {
  return [...pod.initContainers, ...pod.containers].some((c) => c.runtimeName === name);
}
