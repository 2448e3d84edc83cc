// Carrying out a plan: one handler per action kind, run by per-pod tasks (tasks.ts). A pod's task
// awaits the pulls its new containers need (one task per image, shared by every pod that needs it),
// then runs its actions in order; pods never wait for each other. A failure stops the rest of its
// pod's actions and nothing else (but an app container's own settings the create refuses, which the
// kubelet fails alone too: container-config.ts); it is reported, and backs off (failures.ts). A pod whose image
// failed to pull is not touched (the failure is the pull's). Heavy steps (pulls; creating, starting
// and removing containers) take a slot of a shared limit; waiting (a grace period, an init
// container's exit) holds none.
//
// Lifecycle hooks (container-hooks.ts): a `remove` runs the container's preStop before the stop
// signal, within the grace period; a `run` runs its postStart after the start, a failure stopping
// the container and failing the action. Both wait without a slot. The removes (or stops) of one pod
// that carry turns (a gone pod, one past its deadline) are carried out together (pod-stop.ts).
//
// Stopping (`signal` aborted): no task starts another action; a step that only waits (a stop's
// grace period, an init container's exit) stops waiting and the task ends there (the signal sent
// stands; the next pass finishes the job); a pull is cut, its bytes parked for the next one.
import type { RunAction } from '../health/action.js';
import { BerthError, isRetryable } from '../lib/errors.js';
import { createSemaphore } from '../lib/semaphore.js';
import { writeConfigVolume } from '../runtime/config-volumes.js';
import { type RuntimeDeps, removeContainer, startCreated } from '../runtime/containers.js';
import { createContainer } from '../runtime/create.js';
import { readIdRange } from '../runtime/id-range.js';
import { activeDeadlineAt, recordFirstStart } from './active-record.js';
import { checkNotRefused, isContainerConfigError } from './container-config.js';
import { type HookDeps, runPostStart, stopWithPreStop } from './container-hooks.js';
import type { DesiredContainer, DesiredState, HostLayout } from './desired.js';
import { imageKey, podKey } from './failures.js';
import { defaultRunAction } from './hook-runner.js';
import { prepareHostPath, withHostPathTypes } from './host-path-types.js';
import { type Action, ANNOTATION, OWNER_MANIFESTS } from './plan.js';
import { needsPodAddress, podAddressOf, withPodAddress } from './pod-address.js';
import { desiredPodNamed } from './pod-index.js';
import { stopInTurns, type Turned, turnedFrom } from './pod-stop.js';
import { setUpPod, tearDownPod } from './pods.js';
import { clearPostStart, markPostStart, postStartDir } from './post-start-marks.js';
import { canonicalSpec, specHash } from './spec-hash.js';
import { pauseFor, waitForExit } from './task-waits.js';
import type { TaskOutcome, TaskReport, Tasks } from './tasks.js';

/** Where a pull action's image comes from besides its reference. */
export interface PullFrom {
  platform?: string;
  /** An Image's `source: file:///…` archive, imported instead of pulled. */
  source?: string;
  /** docker config.json texts of the wanting pods' imagePullSecrets, tried first. */
  pullSecrets?: string[];
}

export interface ExecuteDeps {
  rt: RuntimeDeps;
  host: HostLayout;
  /** Pull `image` (or import it from an Image's `source` archive). */
  pull(image: string, from?: PullFrom): Promise<void>;
  /** Each action as it finishes (`error` when it failed). */
  onDone?(action: Action, error?: unknown): void;
  sleep?(ms: number): Promise<void>;
  /**
   * Wait for an init container's exit within its action (`apply`: one run brings pods up). The
   * daemon does not: its exit triggers its pod's next pass.
   */
  waitForInit?: boolean;
  /** Once aborted, no further action starts (the step under way finishes; waits are cut). */
  signal?: AbortSignal;
  /** Runs lifecycle hooks' actions (health/actions; hook-runner.ts makes the default). */
  runAction?: RunAction;
  /** A preStop hook failed; the stop went on (apply and the daemon record it as an event). */
  onPreStopFailed?: HookDeps['onPreStopFailed'];
}

export type ExecuteResult = TaskOutcome;

export interface Executor {
  /** Start the tasks for a plan's actionable actions; the keys started. Never waits for them. */
  start(actions: Action[], desired: DesiredState): string[];
}

const PULLS_AT_ONCE = 3;
/**
 * A step mostly waits for processes (conmon and `runc create`, whose init compiles the seccomp
 * filter; `runc start`; mount): with 4 at once this process sat idle a third of a reboot's recovery
 * on 2 cores. Bounded, because each step in progress holds a lease, mounts and a create handshake
 * that must report within its timeout, and more at once only queues on the CPU: 12 was slower than
 * 8 (scripts/bench/reboot).
 */
const STEPS_AT_ONCE = 8;

/**
 * `imagePullPolicy: Always`: the image is pulled before each container it starts, so a moved tag
 * is followed. An unreachable registry does not keep a container down when the store holds the
 * image (an edge node offline restarts what it has); any other failure (gone, unauthorized) fails.
 */
async function pullAlways(deps: ExecuteDeps, image: string, from: PullFrom): Promise<void> {
  try {
    await deps.pull(image, from);
  } catch (err) {
    const { store } = await deps.rt.images();
    // The registry's failure is what is said, never a store's refusal to name the image (ERR_AMBIGUOUS).
    if (!(isRetryable(err) && (await store.getImage(image).catch(() => undefined)))) throw err;
  }
}

async function imageDigest(rt: RuntimeDeps, image: string): Promise<string> {
  const { store } = await rt.images();
  const record = await store.getImage(image);
  if (!record) throw new BerthError('ERR_IMAGE_NOT_FOUND', 'not-found', `image ${image} is not in the store`);
  return record.target.digest;
}

function findDesired(
  desired: DesiredState,
  pod: string,
  container: string,
): { c: DesiredContainer; file: string; graceSeconds: number } {
  const p = desiredPodNamed(desired, pod);
  const c = [...(p?.initContainers ?? []), ...(p?.containers ?? [])].find((x) => x.name === container);
  if (!p || !c) throw new BerthError('ERR_INTERNAL', 'internal', `no desired container ${pod}/${container}`);
  return { c, file: p.file, graceSeconds: p.graceSeconds };
}

/** The imagePullSecrets of the pods (`pod/container` entries) that want an image, as pull input. */
function pullSecretsOf(desired: DesiredState, wanting: string[]): { pullSecrets?: string[] } {
  const pods = new Set(wanting.filter((w) => w.includes('/')).map((w) => w.split('/')[0] as string));
  const secrets = [...pods].flatMap((p) => desired.pullAuth?.get(p) ?? []);
  return secrets.length > 0 ? { pullSecrets: secrets } : {};
}

type Slot = <T>(fn: () => Promise<T>) => Promise<T>;

/** What the hooks need: waits cut when berth stops, as every wait of a task. */
function hookDeps(deps: ExecuteDeps): HookDeps {
  return {
    rt: { ...deps.rt, sleep: pauseFor(deps) },
    runAction: deps.runAction ?? defaultRunAction(deps.rt),
    ...(deps.host.attachments ? { attachments: deps.host.attachments } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(deps.onPreStopFailed ? { onPreStopFailed: deps.onPreStopFailed } : {}),
  };
}

async function runOne(
  a: Action,
  desired: DesiredState,
  deps: ExecuteDeps,
  slots: { pull: Slot; step: Slot },
): Promise<void> {
  const { rt } = deps;
  switch (a.kind) {
    case 'pull':
      return slots.pull(() =>
        deps.pull(a.image, {
          ...(a.platform ? { platform: a.platform } : {}),
          ...(a.source ? { source: a.source } : {}),
          ...pullSecretsOf(desired, a.for),
        }),
      );
    case 'setup-pod': {
      const pod = desiredPodNamed(desired, a.pod);
      if (pod) await slots.step(() => setUpPod(pod, rt.network));
      return;
    }
    case 'teardown-pod':
      return slots.step(() => tearDownPod(a.pod, deps.host, rt.network));
    case 'write-volume': {
      const pod = desiredPodNamed(desired, a.pod);
      const v = pod?.configVolumes?.find((x) => x.name === a.volume);
      const owner = pod?.userns ? readIdRange(pod.home)?.base : undefined; // its root reads them
      if (v)
        await writeConfigVolume(v.path, v.stamp, desired.volumeFiles?.get(v.path) ?? [], { base: owner });
      return;
    }
    case 'remove':
      // The grace period (and the preStop hook in it) is waited without a slot: a pod that takes an
      // hour to stop holds no other.
      await stopWithPreStop(hookDeps(deps), a.id, a.graceSeconds);
      return slots.step(() => removeContainer(rt, a.id, true));
    case 'stop':
      await stopWithPreStop(hookDeps(deps), a.id, a.graceSeconds);
      return;
    case 'restart-pod': {
      const stops = a.containers.map((c) => ({ id: c.id, turn: c.turn, graceSeconds: a.graceSeconds }));
      await stopInTurns(hookDeps(deps), stops);
      for (const c of a.containers) await slots.step(() => removeContainer(rt, c.id, true));
      return;
    }
    case 'run': {
      const { c, file, graceSeconds } = findDesired(desired, a.pod, a.container);
      checkNotRefused(c); // before anything, the container it would replace too, is touched
      const pod = desiredPodNamed(desired, a.pod);
      if (pod) await recordFirstStart(pod, Date.now()); // its activeDeadlineSeconds counts from here
      const always = [
        ...(c.pullPolicy === 'Always' ? [c.image] : []),
        ...(c.volumeImages ?? []).filter((v) => v.pullPolicy === 'Always').map((v) => v.image),
      ];
      for (const image of always)
        await slots.pull(() => pullAlways(deps, image, pullSecretsOf(desired, [`${a.pod}/${a.container}`])));
      const id = await slots.step(async () => {
        const spec = canonicalSpec(c, await imageDigest(rt, c.image)); // before anything is removed
        // The pod's address is put in now, the marker being what the spec hash holds (pod-address.ts).
        const addressed = needsPodAddress(c.settings)
          ? withPodAddress(c.settings, await podAddressOf(deps.host.attachments, a.pod))
          : c.settings;
        const settings = withHostPathTypes(addressed, pod?.hostPaths ?? []);
        // Its typed hostPaths made or checked, as the kubelet does at each mount: before the old
        // container goes, so a socket missing now leaves the running one as it is.
        for (const h of pod?.hostPaths ?? []) await prepareHostPath(a.pod, h);
        if (a.replace) await removeContainer(rt, a.replace, true);
        const created = await createContainer(rt, c.image, settings, {
          [ANNOTATION.owner]: OWNER_MANIFESTS,
          [ANNOTATION.pod]: a.pod,
          [ANNOTATION.container]: a.container,
          [ANNOTATION.source]: file,
          [ANNOTATION.hash]: specHash(spec),
          [ANNOTATION.spec]: JSON.stringify(spec),
          [ANNOTATION.restarts]: String(a.restarts),
          [ANNOTATION.backoff]: String(a.backoffMs),
          [ANNOTATION.grace]: String(graceSeconds),
          ...(c.sidecar ? { [ANNOTATION.sidecar]: 'true' } : {}),
        });
        // Marked before it starts: no pass sees it running, started, before its postStart returned.
        if (c.lifecycle?.postStart) await markPostStart(postStartDir(rt.paths), created.id);
        await startCreated(rt, created).catch(async (err) => {
          await clearPostStart(postStartDir(rt.paths), created.id);
          throw err;
        });
        return created.id;
      });
      if (c.lifecycle?.postStart)
        await runPostStart(hookDeps(deps), id, graceSeconds).finally(() =>
          clearPostStart(postStartDir(rt.paths), id),
        );
      // No longer than the pod's activeDeadlineSeconds: its next pass stops it then.
      if (a.waitForExit && deps.waitForInit !== false)
        await waitForExit(deps, c.runtimeName, pod && activeDeadlineAt(pod));
      return;
    }
    case 'wait':
      return;
  }
}

/** What a task is doing while it runs `a`, for the plan's waits and `berth ps`. */
function describeStep(a: Action, deps: ExecuteDeps, desired?: DesiredState): string {
  const hooked =
    a.kind === 'run' &&
    desired !== undefined &&
    desiredPodNamed(desired, a.pod)?.containers.find((c) => c.name === a.container)?.lifecycle?.postStart !==
      undefined;
  switch (a.kind) {
    case 'pull':
      return `being pulled (${a.for.join(', ')})`;
    case 'setup-pod':
      return 'setting up its network namespace and volumes';
    case 'teardown-pod':
      return 'tearing down its network namespace and volumes';
    case 'write-volume':
      return `writing volume ${a.volume}`;
    case 'remove':
    case 'stop':
      return `stopping ${a.pod}/${a.container} (grace ${a.graceSeconds} s)`;
    case 'restart-pod':
      return `stopping ${a.pod} to start it again (${a.containers.length} containers, grace ${a.graceSeconds} s)`;
    case 'run':
      return a.waitForExit && deps.waitForInit !== false
        ? `running init container ${a.pod}/${a.container} to completion`
        : `starting ${a.pod}/${a.container}${hooked ? ' (then its postStart hook)' : ''}`;
    case 'wait':
      return a.reason;
  }
}

export function createExecutor(deps: ExecuteDeps, tasks: Tasks): Executor {
  // A step that waited for its slot while berth was told to stop does not start (no new action).
  const { signal } = deps;
  const slots = {
    pull: createSemaphore(PULLS_AT_ONCE, { signal }),
    step: createSemaphore(STEPS_AT_ONCE, { signal }),
  };
  /**
   * Run one action of a task: true when it succeeded, false when the task stops here (failed, or
   * berth is stopping), 'failed-alone' when an app container's own settings failed its run
   * (container-config.ts): reported, and the task goes on.
   */
  const attempt = async (
    a: Action,
    desired: DesiredState,
    report: TaskReport,
  ): Promise<boolean | 'failed-alone'> => {
    if (deps.signal?.aborted) return false;
    report.doing(describeStep(a, deps, desired));
    try {
      await runOne(a, desired, deps, slots);
      report.done(a);
      deps.onDone?.(a);
      return true;
    } catch (err) {
      if (deps.signal?.aborted) return false; // cut short by the stop, not a failure to back off
      const app =
        a.kind === 'run' && desiredPodNamed(desired, a.pod)?.containers.some((c) => c.name === a.container);
      const alone = app === true && isContainerConfigError(err);
      report.failed(a, err, alone);
      deps.onDone?.(a, err);
      return alone ? 'failed-alone' : false;
    }
  };
  /**
   * A pod's stops that have turns (a gone pod, one past its deadline), carried out together
   * (pod-stop.ts): one grace period for them all, each signalled in its turn; then the removes.
   */
  const attemptTogether = async (batch: Turned[], report: TaskReport): Promise<boolean> => {
    if (deps.signal?.aborted) return false;
    let current = batch[0] as Turned;
    report.doing(`stopping ${current.pod} (${batch.length} containers, grace ${current.graceSeconds} s)`);
    try {
      await stopInTurns(
        hookDeps(deps),
        batch.map((a) => ({ id: a.id, turn: a.turn ?? 0, graceSeconds: a.graceSeconds })),
      );
      for (const a of batch) {
        current = a;
        if (a.kind === 'remove') await slots.step(() => removeContainer(deps.rt, a.id, true));
        report.done(a);
        deps.onDone?.(a);
      }
      return true;
    } catch (err) {
      if (deps.signal?.aborted) return false;
      report.failed(current, err);
      deps.onDone?.(current, err);
      return false;
    }
  };
  return {
    start(actions, desired) {
      const started: string[] = [];
      const pulls = new Set<string>();
      for (const a of actions) {
        if (a.kind !== 'pull') continue;
        pulls.add(a.image);
        const key = imageKey(a.image);
        if (tasks.start(key, describeStep(a, deps), async (r) => (await attempt(a, desired, r)) === true))
          started.push(key);
      }
      const byPod = new Map<string, Action[]>();
      for (const a of actions) {
        if (a.kind === 'pull' || a.kind === 'wait') continue;
        const list = byPod.get(a.pod);
        if (list) list.push(a);
        else byPod.set(a.pod, [a]);
      }
      for (const [pod, list] of byPod) {
        // The pulls its new containers need come first: nothing old is stopped before the new
        // image is in the store, and a pod whose image could not be pulled is not touched.
        const images = new Set(
          list.flatMap((a) => {
            if (a.kind !== 'run') return [];
            const { c } = findDesired(desired, a.pod, a.container);
            return [c.image, ...(c.volumeImages ?? []).map((v) => v.image)];
          }),
        );
        const needs = [...images].filter((image) => pulls.has(image));
        const first = needs[0] ? `pulling ${needs[0]}` : describeStep(list[0] as Action, deps, desired);
        const work = async (report: TaskReport): Promise<boolean> => {
          for (const image of needs) {
            report.doing(`pulling ${image}`);
            if (!(await tasks.join(imageKey(image)))) return false;
          }
          let failedAlone = false;
          for (let i = 0; i < list.length; ) {
            const batch = turnedFrom(list, i);
            const ok =
              batch.length > 1
                ? await attemptTogether(batch, report)
                : await attempt(list[i] as Action, desired, report);
            if (!ok) return false;
            if (ok === 'failed-alone') failedAlone = true;
            i += Math.max(1, batch.length);
          }
          return !failedAlone;
        };
        if (tasks.start(podKey(pod), first, work)) started.push(podKey(pod));
      }
      return started;
    },
  };
}
