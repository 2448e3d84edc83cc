// The daemon's loop: passes as PassScheduler says, watching the manifests folder (and its parent,
// for a folder swapped through a symlink), conmon's exit files, the prober's readiness findings
// (health-watch.ts) and the end of each pod's task for triggers, and serving the API (`POST
// /v1/apply` asks for a pass now and waits for it and for the tasks it started). Returns when
// `signal` aborts, once each task's step under way has ended; containers are left running.
//
// Invariants: one pass at a time; a pass never waits for a task (tasks.ts): a pod pulling or
// stopping for an hour is a wait in every plan meanwhile, and the others go on. The reconcile lock
// is held from a pass that starts tasks until a pass finds none in progress.
import { watch as fsWatch } from 'node:fs';
import { basename, dirname, resolve, sep } from 'node:path';
import { watch } from 'chokidar';
import { eventsRoute } from '../api/events-route.js';
import { type ApiServer, type Routes, serveApi } from '../api/server.js';
import { eventOfPreStopFailure } from '../events/from-reconcile.js';
import type { EventRing } from '../events/ring.js';
import { BerthError } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { loadManifests, type ParseCache } from '../manifest/load.js';
import { createWriterScan } from '../manifest/open-writers.js';
import type { ExecuteDeps } from '../reconcile/execute.js';
import {
  type ApplyResult,
  openPipelines,
  type PassResult,
  type Reconciler,
  runPass,
  summarizeApply,
} from '../reconcile/loop.js';
import { observePods } from '../reconcile/observe.js';
import type { ObservationMemo } from '../reconcile/observe-delta.js';
import { passReadOptions } from '../reconcile/pass-read.js';
import { watchHealthGates } from './health-watch.js';
import { recordPassEvents } from './pass-events.js';
import { PassScheduler, type TriggerScope } from './triggers.js';
import { createApplyWaiters } from './waiters.js';

export interface DaemonOptions {
  dir: string;
  debounceMs: number;
  resyncMs: number;
  signal: AbortSignal;
  execute: Omit<ExecuteDeps, 'rt' | 'host'>;
  /** Where to serve the API; none when absent. */
  socketPath?: string;
  /** Once the API is served and the watches are set, before the first pass. */
  onReady?(): void;
  /**
   * After each pass: what it did, the CPU it took (ms), and whether it settled (no task of any
   * pass in progress and none started by this one: the host is as the manifests say, or waits on
   * failures' back-offs).
   */
  onPass?(result: PassResult, cpuMs: number, settled: boolean, wallMs: number, at: string): void;
  /**
   * The loop is alive: called between passes, at least every `aliveMs` (systemd's watchdog). A
   * pass that hangs stops the calls.
   */
  onAlive?(): void;
  aliveMs?: number;
  onError?(err: unknown): void;
  /** Where events are recorded, and streamed from (`GET /v1/events`); none when absent. */
  events?: EventRing;
  /** More routes to serve (`GET /metrics`, the container routes). */
  routes?: Routes;
  /** What this daemon serves beyond its manifests, in `GET /v1/status` (`root`, `config`). */
  serves?: Record<string, string>;
  /** Hands out what asks for a pass now (the import directory's watcher: an image arrived). */
  onTrigger?(trigger: () => void): void;
}

interface LastPass {
  at: string;
  done: number;
  failed: number;
  cpuMs: number;
}

export async function runDaemon(r: Reconciler, o: DaemonOptions): Promise<void> {
  const dir = resolve(o.dir);
  const scheduler = new PassScheduler(o.debounceMs, o.resyncMs);
  const cache: ParseCache = new Map(); // unchanged files are not parsed again
  const writers = createWriterScan(); // a look at /proc for a file's writer goes on across passes
  let wake: (() => void) | undefined;
  /** Something changed; what, when the trigger knows (none: every pod is observed again). */
  const trigger = (scope?: TriggerScope) => {
    scheduler.trigger(Date.now(), scope);
    wake?.();
  };
  o.onTrigger?.(() => trigger());
  // What the last pass saw: a pass a file or a task's end triggered reads again only the pods they touched.
  const observation: ObservationMemo = {};
  // A task's end (a pull, a pod's stop) is a trigger: its pod's next step is the next pass's.
  const passEvents = o.events && recordPassEvents(o.events);
  const onDone: typeof o.execute.onDone = (a, err) => {
    passEvents?.onDone(a, err);
    o.execute.onDone?.(a, err);
  };
  const onPreStopFailed: typeof o.execute.onPreStopFailed = (c, reason) => {
    if (o.events) o.events.emit(eventOfPreStopFailure(c, reason));
    o.execute.onPreStopFailed?.(c, reason);
  };
  const execute = { ...o.execute, onDone, onPreStopFailed, waitForInit: false, signal: o.signal };
  const pipelines = openPipelines(r, execute, (key) =>
    trigger({ pods: key.startsWith('pod/') ? [key.slice('pod/'.length)] : [] }),
  );
  const waiters = createApplyWaiters();
  let lastPass: LastPass | undefined;
  const startedAt = new Date(r.now()).toISOString();
  let api: ApiServer | undefined;
  if (o.socketPath) {
    api = await serveApi(o.socketPath, {
      ...o.routes,
      ...(o.events ? { 'GET /v1/events': eventsRoute(o.events, r.now) } : {}),
      'GET /v1/status': async () => ({
        ...o.serves,
        pid: process.pid,
        manifests: dir,
        startedAt,
        lastPass: lastPass ?? null,
      }),
      'GET /v1/pods': () => observePods(r.rt, r.status),
      'POST /v1/apply': async () =>
        summarizeApply(
          await new Promise<ApplyResult>((res, rej) => {
            waiters.ask({ resolve: res, reject: rej });
            scheduler.wakeAt(Date.now());
            wake?.();
          }),
        ),
    });
  }
  const watcher = watch([dir, dirname(dir)], { ignoreInitial: true, depth: 1, atomic: true });
  watcher.on('all', (event, path) => {
    // A file of the folder names what it defines; the folder itself (made, removed, swapped) names
    // nothing, nor does a directory in it or a kubelet-style `..data` link swapped to another
    // (`app.yaml -> ..data/app.yaml`: the files read through it changed, none of them named).
    const through =
      dirname(path) === dir &&
      (event === 'addDir' || event === 'unlinkDir' || basename(path).startsWith('..'));
    if (path.startsWith(`${dir}${sep}`) && !through) trigger({ files: [path] });
    else if (path.startsWith(`${dir}${sep}`) || path === dir || basename(path) === basename(dir)) trigger();
  });
  watcher.on('error', (err) => o.onError?.(err));
  await makeDirs(r.rt.paths.exits);
  const exits = fsWatch(r.rt.paths.exits, () => trigger()); // a container exited: look now
  const health = r.host.health ? await watchHealthGates(r.host.health, () => trigger()) : undefined;
  // Until the next pass is due, or the daemon stops; a trigger re-reads when (debounce: counted
  // from the first trigger). No timer outlives the wait, so a stopped daemon exits at once.
  const sleepUntilDue = () =>
    new Promise<void>((res) => {
      if (o.signal.aborted) return res();
      const due = () => {
        const now = Date.now();
        return Math.max(0, scheduler.dueAt(now) - now);
      };
      let timer = setTimeout(done, due());
      o.onAlive?.();
      const alive = o.onAlive && o.aliveMs ? setInterval(o.onAlive, o.aliveMs) : undefined;
      function done() {
        clearTimeout(timer);
        clearInterval(alive);
        o.signal.removeEventListener('abort', done);
        wake = undefined;
        res();
      }
      o.signal.addEventListener('abort', done, { once: true });
      wake = () => {
        clearTimeout(timer);
        timer = setTimeout(done, due());
      };
    });
  let lock: { release(): Promise<void> } | undefined;
  o.onReady?.();
  o.events?.emit({
    type: 'daemon',
    object: 'berth',
    reason: 'Started',
    message: `pid ${process.pid}, watching ${dir}`,
  });
  try {
    while (!o.signal.aborted) {
      const scope = scheduler.passStarted(Date.now());
      // Asked for by a person (`berth apply`): failures are retried now, as a local apply does.
      const retrySince = waiters.beginPass(pipelines.tasks.started, r.now());
      try {
        const cpu = process.cpuUsage();
        const wallStart = performance.now();
        lock ??= await r.lock();
        const loaded = await loadManifests(dir, {
          // A file whose pod cannot be built is not its last good content, and a file removed and put
          // back (git, rsync, an editor) stops nothing: read as image GC reads it (pass-read.ts).
          ...passReadOptions(r, { watching: true }),
          cache,
          keepLastGood: true,
          saveLater: true, // a new pod starts while the folder's last good record is written
          writers,
          ...(scope === 'all' ? {} : { unchanged: (file: string) => !scope.files.has(file) }),
        });
        const startedBefore = pipelines.tasks.started;
        const result = await runPass(r, dir, pipelines, { loaded, retrySince, observation, scope }).finally(
          () => loaded.saving?.catch(() => undefined),
        );
        await loaded.saving; // on disk before the next pass; a failed write fails this pass, as before
        if (pipelines.tasks.size === 0) {
          await lock.release();
          lock = undefined;
        }
        const used = process.cpuUsage(cpu);
        const cpuMs = (used.user + used.system) / 1000;
        for (const a of result.remaining) {
          if (a.kind === 'wait' && a.until)
            scheduler.wakeAt(a.until, a.file ? { files: [a.file] } : undefined);
        }
        lastPass = {
          at: new Date(r.now()).toISOString(),
          done: result.executed.done.length,
          failed: result.executed.failed.length,
          cpuMs,
        };
        try {
          passEvents?.onPass(result);
          // A task this pass started and that has already ended (a pull refused at once) is followed
          // by another pass, which plans on its outcome: settled only once a pass starts none.
          const settled = pipelines.tasks.size === 0 && pipelines.tasks.started === startedBefore;
          o.onPass?.(result, cpuMs, settled, performance.now() - wallStart, lastPass.at);
        } finally {
          // Answered after the pass's own line and events (whoever asked finds them written), and
          // with the pass's result even when reporting it failed.
          waiters.endPass(result, (mark) => pipelines.tasks.runningSince(mark));
        }
      } catch (err) {
        scheduler.passFailed(); // and observation was left empty by the failure, if it was observing
        observation.last = undefined;
        waiters.failPass(err);
        o.onError?.(err); // an unreadable folder, say: keep everything, try again later
      }
      await sleepUntilDue();
    }
  } finally {
    exits.close();
    health?.close();
    await watcher.close();
    // Each task ends its step under way (waits are cut: execute.ts); nothing new starts.
    await pipelines.tasks.idle();
    await lock?.release();
    o.events?.emit({
      type: 'daemon',
      object: 'berth',
      reason: 'Stopped',
      message: 'containers keep running',
    });
    waiters.rejectAll(new BerthError('ERR_DAEMON_STOPPING', 'unavailable', 'the daemon is stopping'));
    await api?.close();
  }
}
