// Which pods a daemon's pass must observe again, when its triggers named what changed (a manifest
// file, a task's end), and which parts of the last observation it may take as they were. Pure.
//
// Invariants (what makes reuse safe):
// - a pod is observed again when a trigger's file defines it now or defined it (its sandbox's or its
//   containers' recorded source), when a trigger names it, and while a task of it is in progress or
//   has reported since the last pass: berth's own changes to a pod are made only by its task, so a
//   pod no task touched and no file names is as the last pass saw it, unless something outside
//   berth changed it (seen at the next full pass: triggers.ts);
// - only what belongs to a pod the last observation saw is reused: a container or sandbox new since
//   then, a container of no pod (made by `berth run`) and every unreadable record are read again;
// - images, unreadable records and health.json are whole on every pass (observe-delta.ts).

import { identityOfPodKey } from '../manifest/identity.js';
import type { LoadResult } from '../manifest/load.js';
import type { DesiredState } from './desired.js';
import {
  type Action,
  ANNOTATION,
  type ObservedContainer,
  type ObservedState,
  OWNER_MANIFESTS,
} from './plan-types.js';

/** The pods to observe again, or all. */
export type ObserveScope = 'all' | ReadonlySet<string>;

/** What a daemon's pass was asked to look at: everything, or the files and pods its triggers named. */
export type PassScope = 'all' | { files: ReadonlySet<string>; pods: ReadonlySet<string> };

/** The pod a container belongs to, as the planner reads it; none for a container no manifest made. */
export function podOfContainer(c: ObservedContainer): string | undefined {
  return c.annotations[ANNOTATION.owner] === OWNER_MANIFESTS ? c.annotations[ANNOTATION.pod] : undefined;
}

/** Whether the last observation's `c` may stand for it in this pass (its pod is out of scope). */
export function isReusableContainer(c: ObservedContainer, scope: ObserveScope): boolean {
  if (scope === 'all') return false;
  const pod = podOfContainer(c);
  return pod !== undefined && !scope.has(pod);
}

/** Whether the last observation's sandbox of `pod` may stand for it in this pass. */
export function isReusableSandbox(pod: string, last: ObservedState, scope: ObserveScope): boolean {
  return scope !== 'all' && last.sandboxes.has(pod) && !scope.has(pod);
}

export interface ScopeInput {
  /** Manifest files a trigger named (absolute paths, as pods record them). */
  files: ReadonlySet<string>;
  /** Pods a trigger named (a task that ended). */
  pods: ReadonlySet<string>;
  desired: DesiredState;
  loaded: Pick<LoadResult, 'duplicates'>;
  /** What the last pass observed. */
  last: ObservedState;
  /** Task keys in progress (`pod/<name>`, `image/<ref>`). */
  inFlight: Iterable<string>;
  /** What tasks reported since the last pass. */
  finished: { done: readonly Action[]; failed: ReadonlyArray<{ action: Action }> };
}

/** The pods this pass observes again (see the invariants above). */
export function podsToObserve(i: ScopeInput): Set<string> {
  const out = new Set(i.pods);
  for (const p of i.desired.pods) if (i.files.has(p.file)) out.add(p.name);
  for (const u of i.desired.unusable ?? [])
    if (u.kind === 'Pod' && i.files.has(u.diagnostic.file)) out.add(u.name);
  // A pod defined twice is kept as it runs: the file that made it a duplicate names it no more.
  for (const key of i.loaded.duplicates) if (key.startsWith('Pod/')) out.add(identityOfPodKey(key));
  for (const [pod, s] of i.last.sandboxes) if (s.source !== undefined && i.files.has(s.source)) out.add(pod);
  for (const c of i.last.containers) {
    const pod = podOfContainer(c);
    const source = c.annotations[ANNOTATION.source];
    if (pod !== undefined && source !== undefined && i.files.has(source)) out.add(pod);
  }
  for (const key of i.inFlight) if (key.startsWith('pod/')) out.add(key.slice(4));
  for (const a of i.finished.done) if (a.kind !== 'pull') out.add(a.pod);
  for (const { action } of i.finished.failed) if (action.kind !== 'pull') out.add(action.pod);
  return out;
}
