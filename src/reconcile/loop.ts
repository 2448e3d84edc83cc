// One reconcile: load the manifests, then plan and execute pass after pass until nothing is left
// to do but wait (init containers and dependencies take several passes; a back-off is waited out
// by the daemon, not here). Pods of a broken file, or defined twice, are kept as they run.

import type { ContentStore } from '../content/types.js';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { type LoadResult, loadManifests, type ParseCache } from '../manifest/load.js';
import type { RuntimeDeps } from '../runtime/containers.js';
import { type DesiredState, desiredState, type HostLayout } from './desired.js';
import { type ExecuteDeps, type ExecuteResult, execute } from './execute.js';
import { observe } from './observe.js';
import { type Action, ANNOTATION, isActionable, type ObservedState, OWNER_MANIFESTS, plan } from './plan.js';

export interface Reconciler {
  rt: RuntimeDeps;
  store: ContentStore;
  host: HostLayout;
  now: () => number;
}

export interface PlanResult {
  loaded: LoadResult;
  desired: DesiredState;
  observed: ObservedState;
  actions: Action[];
}

/** Pods to keep as they run: those of files with errors, and those defined twice. */
export function frozenPods(loaded: LoadResult, observed: ObservedState): Map<string, string> {
  const frozen = new Map<string, string>();
  for (const c of observed.containers) {
    if (c.annotations[ANNOTATION.owner] !== OWNER_MANIFESTS) continue;
    const pod = c.annotations[ANNOTATION.pod] as string;
    const source = c.annotations[ANNOTATION.source] ?? '';
    if (loaded.brokenFiles.includes(source)) frozen.set(pod, `${source} has errors`);
  }
  for (const key of loaded.duplicates)
    if (key.startsWith('Pod/')) frozen.set(key.slice(4), 'defined more than once');
  return frozen;
}

export async function planOnce(r: Reconciler, dir: string, loaded?: LoadResult): Promise<PlanResult> {
  const l = loaded ?? (await loadManifests(dir));
  const desired = desiredState(l.docs, r.host);
  const observed = await observe(r.rt, r.store, r.host);
  return {
    loaded: l,
    desired,
    observed,
    actions: plan({ desired, observed, frozen: frozenPods(l, observed), now: r.now() }),
  };
}

export interface ApplyResult {
  diagnostics: Diagnostic[];
  passes: number;
  executed: ExecuteResult;
  /** What is left: waits (back-off, dependencies) and what failed in the last pass. */
  remaining: Action[];
}

const MAX_PASSES = 20;

export async function applyOnce(
  r: Reconciler,
  dir: string,
  deps: Omit<ExecuteDeps, 'rt' | 'host'>,
  cache?: ParseCache,
): Promise<ApplyResult> {
  const loaded = await loadManifests(dir, cache);
  const executed: ExecuteResult = { done: [], failed: [] };
  let remaining: Action[] = [];
  let passes = 0;
  while (passes < MAX_PASSES) {
    passes++;
    const { desired, actions } = await planOnce(r, dir, loaded);
    const todo = actions.filter(isActionable);
    remaining = actions.filter((a) => !isActionable(a));
    if (todo.length === 0) break;
    const result = await execute(todo, desired, { ...deps, rt: r.rt, host: r.host });
    executed.done.push(...result.done);
    executed.failed.push(...result.failed);
    if (result.done.length === 0) {
      remaining = [...remaining, ...todo];
      break; // nothing moved: another pass would fail the same way
    }
  }
  return { diagnostics: loaded.diagnostics, passes, executed, remaining };
}
