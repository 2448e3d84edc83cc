// One reconcile: load the manifests, then plan and execute pass after pass until nothing is left
// to do but wait (init containers and dependencies take several passes; what failed backs off, and
// a back-off is waited out by the daemon, not here). Pods of a broken file, or defined twice, are
// kept as they run. The outcome (pods, waits, failures) is written to the status file.

import { resolve } from 'node:path';
import type { ContentStore } from '../content/types.js';
import { formatErrorLine } from '../lib/errors.js';
import type { Diagnostic } from '../lib/yaml-validate.js';
import type { LastGood } from '../manifest/last-good.js';
import { type LoadResult, loadManifests, type ParseCache } from '../manifest/load.js';
import type { RuntimeDeps } from '../runtime/containers.js';
import { type DesiredState, desiredState, type HostLayout } from './desired.js';
import { type ExecuteDeps, type ExecuteResult, execute } from './execute.js';
import { type Failures, imageKey, podFingerprint, podKey, recordPass } from './failures.js';
import { observe } from './observe.js';
import { type Action, ANNOTATION, isActionable, type ObservedState, OWNER_MANIFESTS, plan } from './plan.js';
import { settleWaits } from './settle-waits.js';
import { buildStatus } from './status.js';
import type { StatusFile } from './status-file.js';

export interface Reconciler {
  rt: RuntimeDeps;
  store: ContentStore;
  host: HostLayout;
  /** `<state>/reconcile.json` (status.ts). */
  status: StatusFile;
  now: () => number;
  /** Each manifest file's last clean content: a broken file's workload stays applied. */
  lastGood?: LastGood;
  /** Serialises reconciles of one host: two `berth apply` at once would create the same containers. */
  lock(): Promise<{ release(): Promise<void> }>;
}

export interface PlanResult {
  loaded: LoadResult;
  desired: DesiredState;
  observed: ObservedState;
  frozen: Map<string, string>;
  actions: Action[];
}

/** Pods to keep as they run: those of files with errors, those defined twice, those desired state could not build. */
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
    if (key.startsWith('Pod/')) frozen.set(key.slice(4), 'defined more than once');
  return frozen;
}

export async function planOnce(
  r: Reconciler,
  dir: string,
  /** `failures`: what backs off (none by default: the plan of an apply, which retries now). */
  o: { loaded?: LoadResult; failures?: Failures } = {},
): Promise<PlanResult> {
  const read = o.loaded ?? (await loadManifests(dir, { lastGood: r.lastGood, now: r.now() }));
  const desired = desiredState(read.docs, r.host);
  // What desired state could not build is reported with the files' problems (and kept as it runs).
  const unusable = (desired.unusable ?? []).map((u) => u.diagnostic);
  const loaded = { ...read, diagnostics: [...read.diagnostics, ...unusable] };
  const observed = await observe(r.rt, r.store, r.host);
  const frozen = frozenPods(loaded, observed, desired);
  return {
    loaded,
    desired,
    observed,
    frozen,
    actions: [
      ...settleWaits(loaded),
      ...plan({
        desired,
        observed,
        frozen,
        now: r.now(),
        failures: o.failures ?? {},
        folder: resolve(dir),
      }),
    ],
  };
}

/** The failure keys still worth keeping: pods wanted or running, images wanted. */
function liveKeys(p: PlanResult): Set<string> {
  const live = new Set<string>();
  for (const pod of p.desired.pods) {
    live.add(podKey(pod.name));
    for (const c of [...pod.initContainers, ...pod.containers]) live.add(imageKey(c.image));
  }
  for (const pod of p.observed.sandboxes.keys()) live.add(podKey(pod)); // a teardown that failed
  for (const c of p.observed.containers)
    if (c.annotations[ANNOTATION.owner] === OWNER_MANIFESTS)
      live.add(podKey(c.annotations[ANNOTATION.pod] ?? ''));
  for (const i of p.desired.images) live.add(imageKey(i.image));
  return live;
}

export interface ApplyResult {
  diagnostics: Diagnostic[];
  passes: number;
  executed: ExecuteResult;
  /** What is left: waits (back-off, dependencies, a broken file). */
  remaining: Action[];
  /** What failed and backs off, after this apply. */
  failures: Failures;
}

/** An ApplyResult as JSON: `berth apply --output json` and the API's `POST /v1/apply`. */
export interface ApplySummary {
  done: Action[];
  failed: Array<Action & { error: string }>;
  remaining: Action[];
  diagnostics: Diagnostic[];
}

export function summarizeApply(result: ApplyResult): ApplySummary {
  return {
    done: result.executed.done,
    failed: result.executed.failed.map((f) => ({ ...f.action, error: formatErrorLine(f.error) })),
    remaining: result.remaining,
    diagnostics: result.diagnostics,
  };
}

const MAX_PASSES = 20;

export interface ApplyOptions {
  /** Unchanged files are not parsed again (the daemon's). */
  cache?: ParseCache;
  /** Try what earlier runs saw fail now, not after its back-off (`berth apply`, by hand). */
  retryNow?: boolean;
}

export async function applyOnce(
  r: Reconciler,
  dir: string,
  deps: Omit<ExecuteDeps, 'rt' | 'host'>,
  o: ApplyOptions = {},
): Promise<ApplyResult> {
  const lock = await r.lock();
  try {
    return await applyLocked(r, dir, deps, o);
  } finally {
    await lock.release();
  }
}

async function applyLocked(
  r: Reconciler,
  dir: string,
  deps: Omit<ExecuteDeps, 'rt' | 'host'>,
  o: ApplyOptions,
): Promise<ApplyResult> {
  const loaded = await loadManifests(dir, {
    cache: o.cache,
    lastGood: r.lastGood,
    keepLastGood: true,
    now: r.now(),
  });
  const started = r.now();
  let failures = r.status.read()?.failures ?? {};
  const gate = () =>
    o.retryNow ? Object.fromEntries(Object.entries(failures).filter(([, f]) => f.at >= started)) : failures;
  const executed: ExecuteResult = { done: [], failed: [] };
  let remaining: Action[] = [];
  let passes = 0;
  let last: PlanResult | undefined;
  while (passes < MAX_PASSES) {
    passes++;
    last = await planOnce(r, dir, { loaded, failures: gate() });
    const todo = last.actions.filter(isActionable);
    remaining = last.actions.filter((a) => !isActionable(a));
    const result =
      todo.length > 0
        ? await execute(todo, last.desired, { ...deps, rt: r.rt, host: r.host })
        : { done: [], failed: [] };
    executed.done.push(...result.done);
    executed.failed.push(...result.failed);
    const desired = last.desired;
    const fingerprint = (pod: string) => {
      const p = desired.pods.find((x) => x.name === pod);
      return p && podFingerprint(p);
    };
    failures = recordPass(failures, result, { now: r.now(), fingerprint, live: liveKeys(last) });
    // Done when nothing is left but waits; what failed now backs off, so the next plan waits for it.
    if (todo.length === 0 || deps.signal?.aborted) break;
  }
  if (last)
    await r.status.write(
      buildStatus(resolve(dir), last.desired, last.frozen, remaining, failures, loaded.fromLastGood),
    );
  return { diagnostics: (last?.loaded ?? loaded).diagnostics, passes, executed, remaining, failures };
}
