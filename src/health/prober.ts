// The daemon's prober: timers for the probes of each running container with probes (no process
// per probe; exec probes aside, which run `runc exec`), probes due within the same SLOT_MS sharing
// one (tick-wheel.ts: run together, they cost a third of the CPU). `sync` is given the probe targets after
// every reconcile pass: a new container (another id or start time) is probed afresh, a gone one
// forgotten, its probe under way aborted. Results go through probe-state.ts; a liveness or
// startup failure stops the container (the probe's grace over the pod's) and the daemon's
// reconcile restarts it per restartPolicy with back-off. What it knows is written to
// <state>/health.json when it changes (coalesced; the time of the last probe refreshed at most
// every REFRESH_MS). A daemon that starts probes afresh: results are never inherited, and nothing
// is stopped for lack of them (only lastLivenessRestart, which is no probe result, is kept).
//
// Invariants: at most one run of a probe at a time; no timer of a forgotten container fires
// into its state (each timer checks its worker is still the current one); close() clears every
// timer and waits for the writes.
import type { EventSink } from '../events/event.js';
import { writeFileAtomic } from '../lib/write-atomic.js';
import type { RunAction } from './action.js';
import { type ContainerHealth, type HealthFile, readHealth } from './health-file.js';
import type { ProbeKind } from './probe-spec.js';
import {
  firstRunAt,
  healthOf,
  initialState,
  isActive,
  PROBE_KINDS,
  type ProbeState,
  recordResult,
} from './probe-state.js';
import type { ProbeTarget } from './probe-targets.js';
import { createTickWheel, type Timers } from './tick-wheel.js';

export const REFRESH_MS = 10_000;
/** Probes due within the same SLOT_MS run together, on one timer (tick-wheel.ts). */
export const SLOT_MS = 250;

export interface ProberDeps {
  runAction: RunAction;
  /** Stop the container (its stop signal, then SIGKILL after `graceSeconds`). */
  stop(runtimeName: string, graceSeconds: number): Promise<void>;
  /** `<state>/health.json`. */
  path: string;
  events: EventSink;
  now(): number;
  onError?(err: unknown): void;
  /** Default SLOT_MS. */
  slotMs?: number;
  timers?: Timers;
}

interface Worker {
  target: ProbeTarget;
  state: ProbeState;
  /** Each scheduled probe's cancel. */
  timers: Map<ProbeKind, () => void>;
  running: Set<ProbeKind>;
  abort: AbortController;
}

export interface Prober {
  sync(targets: ProbeTarget[]): void;
  close(): Promise<void>;
}

export function createProber(deps: ProberDeps): Prober {
  const workers = new Map<string, Worker>();
  // Carried over: why liveness last restarted each container (not a probe result).
  const restarts = new Map<string, NonNullable<ContainerHealth['lastLivenessRestart']>>();
  for (const [name, h] of Object.entries(readHealth(deps.path)?.containers ?? {}))
    if (h.lastLivenessRestart) restarts.set(name, h.lastLivenessRestart);
  let closed = false;
  let writing: Promise<void> = Promise.resolve();
  let dirty = false;
  let writeTimer: NodeJS.Timeout | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;
  const wheel = createTickWheel({
    slotMs: deps.slotMs ?? SLOT_MS,
    now: deps.now,
    ...(deps.timers ? { timers: deps.timers } : {}),
  });

  const snapshot = (): HealthFile => {
    const containers: Record<string, ContainerHealth> = {};
    for (const [name, w] of workers) containers[name] = healthOf(w.state, restarts.get(name));
    // A container liveness stopped is not probed while it is down: its reason stays readable.
    for (const [name, lastLivenessRestart] of restarts)
      containers[name] ??= { id: '', started: false, ready: false, lastLivenessRestart };
    return { pid: process.pid, containers };
  };
  const write = () => {
    writeTimer = undefined;
    if (!dirty) return;
    dirty = false;
    const text = `${JSON.stringify(snapshot(), null, 2)}\n`;
    writing = writing.then(() => writeFileAtomic(deps.path, text).catch((err) => deps.onError?.(err)));
  };
  /** Something people read changed: written at once (coalesced with others of this tick). */
  const changed = () => {
    dirty = true;
    if (!closed) writeTimer ??= setTimeout(write, 0);
  };
  /** Only a probe's time moved: written within REFRESH_MS. */
  const touched = () => {
    dirty = true;
    if (!closed && !refreshTimer)
      refreshTimer = setTimeout(() => {
        refreshTimer = undefined;
        write();
      }, REFRESH_MS);
  };

  const schedule = (w: Worker, kind: ProbeKind, at: number) => {
    w.timers.get(kind)?.();
    if (closed || !isActive(w.state, kind)) return w.timers.delete(kind);
    w.timers.set(
      kind,
      wheel.add(at, () => void probe(w, kind, at)),
    );
  };
  const scheduleActive = (w: Worker) => {
    for (const kind of PROBE_KINDS)
      if (isActive(w.state, kind) && !w.timers.has(kind) && !w.running.has(kind))
        schedule(w, kind, firstRunAt(w.state, kind, deps.now()));
  };

  const probe = async (w: Worker, kind: ProbeKind, due: number) => {
    w.timers.delete(kind);
    const spec = w.state.probes[kind];
    if (!spec || workers.get(w.target.runtimeName) !== w || w.running.has(kind)) return;
    w.running.add(kind);
    const result = await deps.runAction(spec.action, w.target.action, {
      timeoutMs: spec.timeoutMs,
      signal: w.abort.signal,
    });
    w.running.delete(kind);
    if (workers.get(w.target.runtimeName) !== w || w.abort.signal.aborted) return;
    const was = w.state;
    const r = recordResult(w.state, kind, result, deps.now());
    w.state = r.state;
    if (r.changed) changed();
    else touched();
    const object = w.target.object;
    // Named as the reconcile's container events name theirs: `--filter pod=NAME` finds them too.
    const cut = object.lastIndexOf('/');
    const who = { pod: object.slice(0, cut), container: object.slice(cut + 1), id: w.target.id };
    const flipped = (k: 'ready' | 'started') => was[k] !== r.state[k];
    if (!result.ok && was.lastProbe?.ok !== false)
      deps.events.emit({
        type: 'container',
        object,
        reason: 'Unhealthy',
        message: `${kind} probe failed: ${result.message}`,
        attributes: { ...who, probe: kind },
      });
    if (flipped('ready'))
      deps.events.emit({
        type: 'container',
        object,
        reason: r.state.ready ? 'Ready' : 'NotReady',
        message: `${kind} probe: ${result.message}`,
        attributes: who,
      });
    if (r.effect.kind === 'kill') {
      const { reason } = r.effect;
      const grace = r.effect.graceSeconds ?? w.target.graceSeconds;
      restarts.set(w.target.runtimeName, { reason, at: new Date(deps.now()).toISOString() });
      changed();
      for (const cancel of w.timers.values()) cancel();
      w.timers.clear();
      deps.events.emit({
        type: 'container',
        object,
        reason: 'Killing',
        message: `${reason}: stopping it (grace ${grace} s), restarted per the pod's restartPolicy`,
        attributes: { ...who, probe: kind },
      });
      await deps.stop(w.target.runtimeName, grace).catch((err) => deps.onError?.(err));
      return;
    }
    if (flipped('started')) scheduleActive(w); // startup done: liveness and readiness begin
    // The next run a period after this one was due (as a ticker), never in the past.
    schedule(w, kind, Math.max(deps.now(), due + spec.periodMs));
  };

  const forget = (name: string) => {
    const w = workers.get(name);
    if (!w) return;
    w.abort.abort();
    for (const cancel of w.timers.values()) cancel();
    workers.delete(name);
  };

  return {
    sync(targets) {
      if (closed) return;
      const seen = new Set<string>();
      for (const t of targets) {
        seen.add(t.runtimeName);
        const w = workers.get(t.runtimeName);
        const same =
          w &&
          w.target.id === t.id &&
          w.target.startedAt === t.startedAt &&
          JSON.stringify(w.state.probes) === JSON.stringify(t.probes) &&
          JSON.stringify(w.target.action) === JSON.stringify(t.action);
        if (same) continue;
        forget(t.runtimeName);
        const fresh: Worker = {
          target: t,
          state: initialState(t.id, t.probes, t.startedAt),
          timers: new Map(),
          running: new Set(),
          abort: new AbortController(),
        };
        workers.set(t.runtimeName, fresh);
        scheduleActive(fresh);
        changed();
      }
      for (const name of [...workers.keys()])
        if (!seen.has(name)) {
          forget(name);
          changed();
        }
    },
    async close() {
      closed = true;
      for (const name of [...workers.keys()]) forget(name);
      wheel.clear();
      clearTimeout(writeTimer);
      clearTimeout(refreshTimer);
      await writing;
    },
  };
}
