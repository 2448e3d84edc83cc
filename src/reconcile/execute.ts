// Carrying out a plan: one handler per action kind. Pulls go first (a few at once); then each
// pod's actions in order, pods in parallel under a limit. A failure stops the rest of its pod's
// actions and nothing else; it is reported, and backs off (failures.ts). A pod whose image failed
// to pull is not touched in that pass.
import { BerthError, isRetryable } from '../lib/errors.js';
import { mapLimit } from '../lib/limit.js';
import {
  containerStatus,
  findContainer,
  type RuntimeDeps,
  removeContainer,
  startContainer,
  stopContainer,
} from '../runtime/containers.js';
import { createContainer } from '../runtime/create.js';
import type { DesiredContainer, DesiredState, HostLayout } from './desired.js';
import { type Action, ANNOTATION, OWNER_MANIFESTS } from './plan.js';
import { setUpPod, tearDownPod } from './pods.js';
import { canonicalSpec, specHash } from './spec-hash.js';

export interface ExecuteDeps {
  rt: RuntimeDeps;
  host: HostLayout;
  pull(image: string, platform?: string): Promise<void>;
  /** Each action as it finishes (`error` when it failed). */
  onDone?(action: Action, error?: unknown): void;
  sleep?(ms: number): Promise<void>;
  /**
   * Wait for an init container's exit within its action (`apply`: one run brings pods up). The
   * daemon does not: a pass never blocks on one pod; the exit triggers its next pass.
   */
  waitForInit?: boolean;
  /** Once aborted, no further action starts (the one under way finishes). */
  signal?: AbortSignal;
}

export interface ExecuteResult {
  done: Action[];
  failed: Array<{ action: Action; error: unknown }>;
}

/** How long an init container may run before its pod's pass gives up on it. */
const INIT_TIMEOUT_MS = 10 * 60_000;

/**
 * `imagePullPolicy: Always`: the image is pulled before each container it starts, so a moved tag
 * is followed. An unreachable registry does not keep a container down when the store holds the
 * image (an edge node offline restarts what it has); any other failure (gone, unauthorized) fails.
 */
async function pullAlways(deps: ExecuteDeps, image: string): Promise<void> {
  try {
    await deps.pull(image);
  } catch (err) {
    const { store } = await deps.rt.images();
    if (!(isRetryable(err) && (await store.getImage(image)))) throw err;
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
  const p = desired.pods.find((x) => x.name === pod);
  const c = [...(p?.initContainers ?? []), ...(p?.containers ?? [])].find((x) => x.name === container);
  if (!p || !c) throw new BerthError('ERR_INTERNAL', 'internal', `no desired container ${pod}/${container}`);
  return { c, file: p.file, graceSeconds: p.graceSeconds };
}

async function waitForExit(deps: ExecuteDeps, name: string): Promise<void> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const until = Date.now() + INIT_TIMEOUT_MS;
  const record = await findContainer(deps.rt, name);
  for (;;) {
    const s = await containerStatus(deps.rt, record);
    if (s.state === 'exited') {
      if (s.exitCode === 0) return;
      throw new BerthError('ERR_INIT_FAILED', 'internal', `init container ${name} exited ${s.exitCode}`);
    }
    if (Date.now() > until)
      throw new BerthError('ERR_TIMEOUT', 'unavailable', `init container ${name} still runs`);
    await sleep(100);
  }
}

async function runOne(a: Action, desired: DesiredState, deps: ExecuteDeps): Promise<void> {
  const { rt } = deps;
  switch (a.kind) {
    case 'pull':
      return deps.pull(a.image, a.platform);
    case 'setup-pod': {
      const pod = desired.pods.find((p) => p.name === a.pod);
      if (pod) await setUpPod(pod);
      return;
    }
    case 'teardown-pod':
      return tearDownPod(a.pod, deps.host);
    case 'remove':
      await stopContainer(rt, a.id, a.graceSeconds);
      return removeContainer(rt, a.id, true);
    case 'run': {
      const { c, file, graceSeconds } = findDesired(desired, a.pod, a.container);
      if (c.pullPolicy === 'Always') await pullAlways(deps, c.image);
      const spec = canonicalSpec(c, await imageDigest(rt, c.image)); // before anything is removed
      if (a.replace) await removeContainer(rt, a.replace, true);
      await createContainer(rt, c.image, c.settings, {
        [ANNOTATION.owner]: OWNER_MANIFESTS,
        [ANNOTATION.pod]: a.pod,
        [ANNOTATION.container]: a.container,
        [ANNOTATION.source]: file,
        [ANNOTATION.hash]: specHash(spec),
        [ANNOTATION.spec]: JSON.stringify(spec),
        [ANNOTATION.restarts]: String(a.restarts),
        [ANNOTATION.backoff]: String(a.backoffMs),
        [ANNOTATION.grace]: String(graceSeconds),
      });
      await startContainer(rt, c.runtimeName);
      if (a.waitForExit && deps.waitForInit !== false) await waitForExit(deps, c.runtimeName);
      return;
    }
    case 'wait':
      return;
  }
}

export async function execute(
  actions: Action[],
  desired: DesiredState,
  deps: ExecuteDeps,
): Promise<ExecuteResult> {
  const result: ExecuteResult = { done: [], failed: [] };
  const attempt = async (a: Action): Promise<boolean> => {
    if (deps.signal?.aborted) return false;
    try {
      await runOne(a, desired, deps);
      result.done.push(a);
      deps.onDone?.(a);
      return true;
    } catch (err) {
      result.failed.push({ action: a, error: err });
      deps.onDone?.(a, err);
      return false;
    }
  };
  const pulls = actions.filter((a) => a.kind === 'pull');
  await mapLimit(pulls, 3, attempt);
  // A pod whose image could not be pulled waits: its failure is the pull's.
  const unpulled = new Set(result.failed.map((f) => (f.action.kind === 'pull' ? f.action.image : '')));
  const needsUnpulled = (a: Action) =>
    a.kind === 'run' && unpulled.has(findDesired(desired, a.pod, a.container).c.image);
  const byPod = new Map<string, Action[]>();
  for (const a of actions) {
    if (a.kind === 'pull' || a.kind === 'wait') continue;
    byPod.set(a.pod, [...(byPod.get(a.pod) ?? []), a]);
  }
  for (const [pod, list] of byPod) if (list.some(needsUnpulled)) byPod.delete(pod);
  await mapLimit([...byPod.values()], 4, async (list) => {
    for (const a of list) if (!(await attempt(a))) return; // the rest of this pod waits for the next pass
  });
  return result;
}
