// Passes: each records what the tasks of earlier passes did (failures.ts), plans around the tasks
// still in progress, starts tasks for the rest (execute.ts) and writes the outcome (pods, waits,
// failures) to the status file; it never waits for a task. `applyOnce` (one reconcile: `berth
// apply`) runs passes until nothing is left to do but wait and none of its tasks is in progress
// (init containers and dependencies take several passes; what failed backs off, and a back-off is
// waited out by the daemon, not here); while its tasks run, a container exit, a back-off's end or
// a task's end starts the next pass, so one slow pod holds no other back. Pods of a broken file,
// or defined twice, are kept as they run.

import { resolve } from 'node:path';
import type { ContentStore } from '../content/types.js';
import { formatErrorLine } from '../lib/errors.js';
import type { Diagnostic } from '../lib/yaml-validate.js';
import type { LastGood } from '../manifest/last-good.js';
import { type LoadResult, loadManifests, type ParseCache } from '../manifest/load.js';
import type { RuntimeDeps } from '../runtime/containers.js';
import { exitsUntold } from '../runtime/exit-witness.js';
import { reapOrphans } from '../runtime/orphans.js';
import { recordedHolderPid } from '../runtime/pid-holder.js';
import { sweepOrphanHolders } from '../runtime/pid-holder-orphans.js';
import { type DesiredState, desiredState, type HostLayout } from './desired.js';
import { createExecutor, type ExecuteDeps, type ExecuteResult, type Executor } from './execute.js';
import { type Failures, failureKey, imageKey, podFingerprint, podKey, recordPass } from './failures.js';
import { unplannableDiagnostics } from './file-problems.js';
import { frozenPods } from './frozen.js';
import { observe } from './observe.js';
import { type ObservationMemo, observerFor } from './observe-delta.js';
import type { PassScope } from './observe-scope.js';
import { passReadOptions } from './pass-read.js';
import {
  type Action,
  ANNOTATION,
  isActionable,
  type ObservedContainer,
  type ObservedState,
  OWNER_MANIFESTS,
  plan,
} from './plan.js';
import { desiredPodNamed } from './pod-index.js';
import { postStartDir, sweepPostStartMarks } from './post-start-marks.js';
import { settleWaits } from './settle-waits.js';
import { buildStatus } from './status.js';
import type { StatusFile } from './status-file.js';
import { createTasks, type Tasks } from './tasks.js';
import { watchForWork } from './wake.js';

export { buildable } from './file-problems.js';

export interface Reconciler {
  rt: RuntimeDeps;
  store: ContentStore;
  host: HostLayout;
  /** `<state>/reconcile.json` (status.ts). */
  status: StatusFile;
  now: () => number;
  /** Each manifest file's last clean content: a broken file's workload stays applied. */
  lastGood?: LastGood;
  /** How often an `Image` with pullPolicy Always is resolved again (host config pull.alwaysRefreshSeconds). */
  imageRefreshMs?: number;
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

/** What a pass has seen before it plans. */
type Seen = { desired: DesiredState; observed: ObservedState };

export async function planOnce(
  r: Reconciler,
  dir: string,
  o: {
    loaded?: LoadResult;
    /** What backs off (none by default: the plan of an apply, which retries now), or how to tell. */
    failures?: Failures | ((seen: Seen) => Failures);
    /** Tasks still in progress (tasks.ts), taken before the host is observed. */
    inFlight?: Map<string, string>;
    /** How the host is observed once the desired state is known (all of it by default). */
    observe?(seen: { desired: DesiredState; loaded: LoadResult }): Promise<ObservedState>;
  } = {},
): Promise<PlanResult> {
  const read = o.loaded ?? (await loadManifests(dir, passReadOptions(r)));
  const desired = desiredState(read.docs, r.host);
  // What desired state could not build is reported with the files' problems (and kept as it runs).
  const unusable = (desired.unusable ?? []).map((u) => u.diagnostic);
  const loaded = { ...read, diagnostics: [...read.diagnostics, ...unusable] };
  const observed = o.observe ? await o.observe({ desired, loaded }) : await observe(r.rt, r.store, r.host);
  const frozen = frozenPods(loaded, observed, desired);
  const failures = typeof o.failures === 'function' ? o.failures({ desired, observed }) : (o.failures ?? {});
  const planned = plan({
    desired,
    observed,
    frozen,
    now: r.now(),
    failures,
    inFlight: o.inFlight,
    ...(r.imageRefreshMs ? { imageRefreshMs: r.imageRefreshMs } : {}),
    folder: resolve(dir),
  });
  // A pod whose planning threw is a problem of its file, as one desired state could not build.
  const unplannable = unplannableDiagnostics(planned, loaded.docs);
  return {
    loaded:
      unplannable.length > 0 ? { ...loaded, diagnostics: [...loaded.diagnostics, ...unplannable] } : loaded,
    desired,
    observed,
    frozen,
    actions: [...settleWaits(loaded), ...planned],
  };
}

/** The failure keys still worth keeping: pods wanted or running, images wanted. */
function liveKeys(p: Seen): Set<string> {
  const live = new Set<string>();
  for (const pod of p.desired.pods) {
    live.add(podKey(pod.name));
    // A pull failure outlives its use once the image is in the store another way (`image import`,
    // another pod's pull): kept only while a pull is still wanted (not there, or pullPolicy Always).
    for (const c of [...pod.initContainers, ...pod.containers])
      if (!p.observed.images.has(c.image) || c.pullPolicy === 'Always') live.add(imageKey(c.image));
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
  /** Manifest files still being written (settle.ts), not applied: their last good content stands. */
  held: string[];
}

/** An ApplyResult as JSON: `berth apply --output json` and the API's `POST /v1/apply`. */
export interface ApplySummary {
  done: Action[];
  failed: Array<Action & { error: string }>;
  remaining: Action[];
  diagnostics: Diagnostic[];
  /** Files still being written, not applied (absent from a daemon older than this field). */
  held?: string[];
}

export function summarizeApply(result: ApplyResult): ApplySummary {
  return {
    done: result.executed.done,
    failed: result.executed.failed.map((f) => ({ ...f.action, error: formatErrorLine(f.error) })),
    remaining: result.remaining,
    diagnostics: result.diagnostics,
    held: result.held,
  };
}

/** The tasks of a reconciler and what starts them; a daemon keeps one for its life. */
export interface Pipelines {
  tasks: Tasks;
  executor: Executor;
  /** Aborted when berth stops: what it cut short is no failure. */
  signal?: AbortSignal;
}

export function openPipelines(
  r: Reconciler,
  deps: Omit<ExecuteDeps, 'rt' | 'host'>,
  /** A task ended (its key: `pod/<name>`, `image/<ref>`): look again. */
  onSettled?: (key: string) => void,
): Pipelines {
  const tasks = createTasks({ onSettled });
  const executor = createExecutor({ ...deps, rt: r.rt, host: r.host }, tasks);
  return { tasks, executor, ...(deps.signal ? { signal: deps.signal } : {}) };
}

export interface PassResult extends ApplyResult {
  /** The tasks this pass started (`pod/<name>`, `image/<ref>`). */
  started: string[];
  /** The containers as this pass observed them (events: what changed since the last pass). */
  containers?: ObservedContainer[];
  /** What the manifests asked for, as this pass read them (the daemon's prober). */
  desired?: DesiredState;
  /** How many pods this pass read from the host, of how many there are (a daemon's scoped pass). */
  observedPods?: { pods: number; of: number };
}

export interface PassOptions {
  loaded: LoadResult;
  /** Failures recorded before this time are tried now, not after their back-off (a person asked). */
  retrySince?: number;
  /** Start nothing (berth is stopping): the pass only records and reports. */
  startNothing?: boolean;
  /** Which actions may start (an apply's bound on how often one pod is started). */
  allow?(a: Action): boolean;
  /**
   * A daemon's observation kept between passes, and what this pass was asked to look at: with both,
   * a scoped pass reads again only the pods its triggers and tasks touched (observe-delta.ts).
   */
  observation?: ObservationMemo;
  scope?: PassScope;
}

/** One pass: record what finished, plan around what is in progress, start the rest, write status. */
export async function runPass(r: Reconciler, dir: string, p: Pipelines, o: PassOptions): Promise<PassResult> {
  const finished = p.tasks.drain();
  const inFlight = p.tasks.inFlight();
  const memo = o.observation;
  const full = !memo?.last || o.scope === undefined || o.scope === 'all';
  // Bundles a killed berth left half made or half removed, and pidns holders it never recorded: a
  // check of every container and a listing of every pod's home, so only on a pass that looks at
  // every pod (the daemon's own tasks leave none; a killed `berth run` beside it is seen at the
  // next full pass).
  const orphans = full ? await reapOrphans(r.rt) : { reaped: [], failed: memo?.orphansLeft ?? [] };
  if (memo && full) memo.orphansLeft = orphans.failed;
  await sweepPostStartMarks(postStartDir(r.rt.paths)).catch(() => undefined); // a killed berth's hooks: tried again next pass
  if (full) await sweepOrphanHolders(r.host.pods, recordedHolderPid).catch(() => undefined);
  let failures = r.status.read()?.failures ?? {};
  const last = await planOnce(r, dir, {
    loaded: o.loaded,
    inFlight,
    ...(memo ? { observe: observerFor(r, memo, o.scope, { inFlight: [...inFlight.keys()], finished }) } : {}),
    failures: (seen) => {
      const fingerprint = (pod: string) => {
        const d = desiredPodNamed(seen.desired, pod);
        return d && podFingerprint(d);
      };
      const stopped = p.signal?.aborted === true;
      failures = recordPass(failures, finished, { now: r.now(), fingerprint, live: liveKeys(seen), stopped });
      const since = o.retrySince;
      return since === undefined
        ? failures
        : Object.fromEntries(Object.entries(failures).filter(([, f]) => f.at >= since));
    },
  });
  const todo = last.actions.filter((a) => isActionable(a) && (o.allow?.(a) ?? true));
  const remaining: Action[] = [
    ...orphans.failed.map(
      ({ id, error }): Action => ({
        kind: 'wait',
        pod: '',
        reason: `container ${id}: left by a killed berth, not removed yet (${formatErrorLine(error)})`,
      }),
    ),
    ...last.actions.filter((a) => !isActionable(a)),
  ];
  const started = o.startNothing ? [] : p.executor.start(todo, last.desired);
  await r.status.write(
    buildStatus(
      resolve(dir),
      last.desired,
      last.frozen,
      remaining,
      failures,
      o.loaded.fromLastGood,
      o.loaded.settling.map((s) => s.file),
    ),
  );
  return {
    diagnostics: last.loaded.diagnostics,
    passes: 1,
    executed: finished,
    remaining,
    failures,
    held: o.loaded.settling.flatMap((f) => (f.gone ? [] : [f.file])), // a gone one: its wait says
    started,
    containers: last.observed.containers,
    desired: last.desired,
    ...(memo?.read ? { observedPods: memo.read } : {}),
  };
}

/** How often one pod or image may be started in one apply: a guard against a plan that never settles. */
const MAX_STARTS = 20;

export interface ApplyOptions {
  /** Unchanged files are not parsed again (the daemon's). */
  cache?: ParseCache;
  /** Try what earlier runs saw fail now, not after its back-off (`berth apply`, by hand). */
  retryNow?: boolean;
  /**
   * What the tasks in progress are doing (by key: `pod/web`, `image/<ref>`), told 5 s into the
   * apply, then at 10, 20, 40 s… and every minute from then on, while any runs.
   */
  onProgress?(doing: Map<string, string>, elapsedMs: number): void;
  /**
   * The containers a pass saw, beside what the pass before saw (none before the first): what ended
   * between them (`berth apply` records the ones lost with no exit code).
   */
  onObserved?(before: readonly ObservedContainer[], after: readonly ObservedContainer[]): void;
}

/**
 * How often a wait for a container's completion looks whether the process that will tell of its
 * end is still there (runtime/exit-witness.ts): a killed conmon writes no exit file to wake on.
 */
const WITNESS_POLL_MS = 500;

/** When progress is told: 5 s in, then each time the elapsed time doubles, at most a minute apart. */
export const nextProgressMs = (elapsedMs: number) =>
  elapsedMs < 5_000 ? 5_000 : elapsedMs + Math.min(elapsedMs, 60_000);

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
  const loaded = await loadManifests(dir, { ...passReadOptions(r), cache: o.cache, keepLastGood: true });
  const retrySince = o.retryNow ? r.now() : undefined;
  const wake = await watchForWork(r.rt.paths.exits, deps.signal);
  const pipelines = openPipelines(r, deps, wake.bump);
  const starts = new Map<string, number>();
  const allow = (a: Action) => (starts.get(failureKey(a)) ?? 0) < MAX_STARTS;
  const executed: ExecuteResult = { done: [], failed: [] };
  let result: PassResult | undefined;
  let seen: ObservedContainer[] | undefined;
  let passes = 0;
  const began = Date.now();
  let progress: NodeJS.Timeout | undefined;
  const tell = (at: number) => {
    progress = setTimeout(
      () => {
        const doing = pipelines.tasks.inFlight();
        if (doing.size > 0) o.onProgress?.(doing, at);
        tell(nextProgressMs(at));
      },
      at - (Date.now() - began),
    );
    progress.unref();
  };
  if (o.onProgress) tell(nextProgressMs(0));
  try {
    for (;;) {
      passes++;
      const mark = wake.mark(); // before the pass observes: what happens during it makes one more
      const stopping = deps.signal?.aborted === true;
      result = await runPass(r, dir, pipelines, { loaded, retrySince, allow, startNothing: stopping });
      executed.done.push(...result.executed.done);
      executed.failed.push(...result.executed.failed);
      if (seen && result.containers) o.onObserved?.(seen, result.containers);
      seen = result.containers ?? seen;
      for (const key of result.started) starts.set(key, (starts.get(key) ?? 0) + 1);
      // A dependency running to completion is waited for: its exit is what starts its dependents.
      const awaited = result.remaining.some((a) => a.kind === 'wait' && a.awaitsExit);
      if (pipelines.tasks.size === 0 && !wake.movedSince(mark) && (!awaited || stopping)) break;
      if (stopping) await pipelines.tasks.idle();
      else {
        const now = r.now(); // a wait whose time has passed is no reason to wake at once again
        const until = result.remaining.flatMap((a) =>
          a.kind === 'wait' && a.until && a.until > now ? [a.until] : [],
        );
        // A completion waited for is told by conmon's exit file, unless its conmon is gone: then by
        // the end of whichever process is left to tell it.
        const running = (result.containers ?? []).filter((c) => c.state === 'running').map((c) => c.id);
        const poll = awaited
          ? { everyMs: WITNESS_POLL_MS, happened: await exitsUntold(r.rt, running) }
          : undefined;
        await wake.next(mark, until.length > 0 ? Math.min(...until) : undefined, poll);
      }
    }
  } finally {
    clearTimeout(progress);
    wake.close();
    await pipelines.tasks.idle(); // a throw in a pass: what was started still ends before the lock goes
  }
  const { diagnostics, remaining, failures, held } = result as PassResult;
  return { diagnostics, passes, executed, remaining, failures, held };
}
