// The planner: desired state + observed state → ordered actions, each with a reason a person can
// read. Pure, synchronous, deterministic. Rules:
// - images are pulled first (before anything old is stopped);
// - only containers berth made from manifests are touched (`berth.dev/owner: manifests`);
// - pods of a file with errors, or defined twice, are kept exactly as they run;
// - a pod waits for the pods it depends on to be ready, started or completed, as it says
//   (plan-dependencies.ts); its init containers run to completion, in order, before its containers start;
// - a changed spec recreates the container (reason: what changed); a changed init container once
//   the app containers exist, or one added or removed while they run or once the pod has finished
//   for good, starts the whole pod again
//   (pod-restart.ts); an exited one comes back
//   per the restart policy, after the back-off (restart.ts);
// - a pod or a pull that failed waits out its back-off (failures.ts), and pods that need an image
//   that is missing and not being pulled wait for it;
// - a pod's sandbox that is not whole (after a reboot) is made again with all its containers
//   (sandbox.ts), and a container whose end was lost with the host counts as a failed exit;
// - `apply DIR` prunes only the pods whose manifest was in DIR;
// - a pod or a pull whose task from an earlier pass is still in progress (`inFlight`) is a wait
//   saying what it is doing: its task owns it until it ends (execute.ts);
// - a pod past its activeDeadlineSeconds is stopped and never restarted (active-deadline.ts).
import { backoffEndsAt, matchingRule, nextBackoff, shouldRestart } from '../runtime/restart.js';
import { planActiveDeadline } from './active-deadline.js';
import { type DesiredContainer, type DesiredPod, restartPolicyOf } from './desired.js';
import { activeFailure, podFingerprint, podKey } from './failures.js';
import { removeLaterInits } from './init-order.js';
import { heldReason, unmetDependency } from './plan-dependencies.js';
import { guarded } from './plan-guard.js';
import { planImages } from './plan-images.js';
import { planPortWaits } from './plan-ports.js';
import {
  type Action,
  ANNOTATION,
  type ObservedContainer,
  OWNER_MANIFESTS,
  type PlanInput,
  removeAction,
} from './plan-types.js';
import { planConfigVolumes, removeWritersFirst } from './plan-volumes.js';
import { backingOff, heldByFailure, seconds } from './plan-waits.js';
import { podFolders } from './pod-folders.js';
import { planInitChanged } from './pod-restart.js';
import { brokenBecause, checkSandbox, containersToStartAgain, relinkReason } from './sandbox.js';
import {
  hasInitFailedForGood,
  isPodFinished,
  sidecarNotStarted,
  stopGonePod,
  stopSidecars,
} from './sidecars.js';
import { canonicalSpec, describeChanges, desiredSpecHash, parseStoredSpec } from './spec-hash.js';

export {
  type Action,
  ANNOTATION,
  isActionable,
  type ObservedContainer,
  type ObservedState,
  OWNER_MANIFESTS,
  type PlanInput,
} from './plan-types.js';
export { podsOfOtherFolders } from './pod-folders.js';

const podOf = (c: ObservedContainer) => c.annotations[ANNOTATION.pod] as string;
const nameIn = (c: ObservedContainer) => c.annotations[ANNOTATION.container] as string;

/** Run, keep, recreate or restart one container; undefined when nothing is to be done. */
function planContainer(
  pod: DesiredPod,
  c: DesiredContainer,
  o: ObservedContainer | undefined,
  input: PlanInput,
): Action[] {
  const label = `${pod.name}/${c.name}`;
  const digest = input.observed.images.get(c.image);
  // A native sidecar is planned as an app container that always restarts (sidecars.ts).
  const init = c.init && !c.sidecar;
  const policy = restartPolicyOf(pod, c);
  const run = (reason: string, extra: Partial<Extract<Action, { kind: 'run' }>> = {}): Action => ({
    kind: 'run',
    pod: pod.name,
    container: c.name,
    restarts: 0,
    backoffMs: 0,
    waitForExit: init,
    reason,
    ...extra,
  });
  if (!o) return [run(`${label}: ${c.sidecar ? 'sidecar' : c.init ? 'init container' : 'new container'}`)];
  if (digest) {
    if (o.annotations[ANNOTATION.hash] !== desiredSpecHash(c, digest)) {
      const want = canonicalSpec(c, digest);
      const before = parseStoredSpec(o.annotations[ANNOTATION.spec]);
      const why = `${label}: ${before ? describeChanges(before, want).join(', ') : 'spec changed'}`;
      return [removeAction(pod, c.name, o, why), run(why)];
    }
  }
  if (o.state === 'running')
    return init ? [{ kind: 'wait', pod: pod.name, container: c.name, reason: `${label}: running` }] : [];
  if (o.state === 'created') return [run(`${label}: created but not running`, { replace: o.id })];
  // Exited.
  if (init && o.exitCode === 0) return [];
  if (!shouldRestart(policy, o.exitCode, c.restartRules)) {
    return init
      ? [
          {
            kind: 'wait',
            pod: pod.name,
            container: c.name,
            reason: `${label}: failed (exit ${o.exitCode}), restart policy ${policy}`,
          },
        ]
      : [];
  }
  // When it ended is unknown (lost with the host): nothing to wait for, it restarts now.
  const finished = Date.parse(o.finishedAt ?? '');
  const started = Date.parse(o.startedAt ?? o.finishedAt ?? '') || finished;
  const next = nextBackoff(
    { delayMs: Number(o.annotations[ANNOTATION.backoff] ?? 0) },
    finished - started || 0,
  ).delayMs;
  const restarts = Number(o.annotations[ANNOTATION.restarts] ?? 0) + 1;
  const ended =
    o.reason === 'lost'
      ? 'lost with no exit code (the host went down, or its monitor was killed)'
      : `exited ${o.exitCode ?? '?'}`;
  const rule = matchingRule(c.restartRules ?? [], o.exitCode);
  const why = rule
    ? `restart rule exitCodes ${rule.operator} [${rule.values.join(', ')}]`
    : `restart policy ${policy}`;
  const exited = `${label}: ${ended}, ${why}`;
  if (Number.isNaN(finished))
    return [run(`${exited}, restart ${restarts} now`, { replace: o.id, restarts, backoffMs: next })];
  const until = backoffEndsAt(finished, next, input.now);
  if (until !== undefined) {
    return [
      {
        kind: 'wait',
        pod: pod.name,
        container: c.name,
        reason: `${exited}, back-off ${seconds(next)}`,
        until,
      },
    ];
  }
  return [
    run(`${exited}, restart ${restarts} after ${seconds(next)}`, {
      replace: o.id,
      restarts,
      backoffMs: next,
    }),
  ];
}

/** A pod's actions; starting anything waits until its dependencies hold (on every start). */
function planPod(
  pod: DesiredPod,
  observed: ObservedContainer[],
  input: PlanInput,
  unpullable: Set<string>,
): Action[] {
  const planned = planPodContainers(pod, observed, input);
  const actions = removeWritersFirst(pod, observed, planned, input.observed.images);
  if (!actions.some((a) => a.kind === 'run' || a.kind === 'restart-pod')) return actions;
  const waiting = pod.dependsOn.flatMap((d) => unmetDependency(d, input) ?? []);
  const images = [...pod.initContainers, ...pod.containers]
    .filter((c) => actions.some((a) => a.kind === 'run' && a.container === c.name))
    .flatMap((c) => [c.image, ...(c.volumeImages ?? []).map((v) => v.image)])
    .filter((image) => unpullable.has(image));
  if (images.length + waiting.length === 0) return actions;
  // Nothing that is still wanted is stopped while its replacement could not start.
  const wanted = new Set([...pod.initContainers, ...pod.containers].map((c) => c.name));
  return [
    ...actions.filter((a) => a.kind === 'remove' && !wanted.has(a.container)),
    {
      kind: 'wait',
      pod: pod.name,
      reason: heldReason(
        pod.name,
        images,
        waiting.map((w) => w.phrase),
      ),
      ...(waiting.some((w) => w.awaitsExit) ? { awaitsExit: true } : {}),
      ...(pod.dependsOn.length > 0
        ? { held: { images: [...new Set(images)], dependsOn: pod.dependsOn } }
        : {}),
    },
  ];
}

/**
 * A pod that ran, whose sandbox is gone (a reboot): its containers are removed, the sandbox set up
 * again, and it starts over from its init containers, except what its restart policy says has
 * finished (then nothing at all is made again).
 */
function planSandboxAgain(pod: DesiredPod, observed: ObservedContainer[], input: PlanInput): Action[] {
  const inits = new Set(pod.initContainers.map((c) => c.name));
  const again = containersToStartAgain(
    pod.containers.map((c) => ({ name: c.name, policy: restartPolicyOf(pod, c) })),
    observed.map((o) => ({
      name: nameIn(o),
      init: inits.has(nameIn(o)),
      state: o.state,
      exitCode: o.exitCode,
    })),
  );
  if (again.length === 0) return [];
  const why = brokenBecause(pod, input.observed.sandboxes.get(pod.name));
  const reason = `${pod.name}: ${why}: set up again, init containers run again`;
  const startAgain = new Set(again);
  const kept = new Set(observed.filter((o) => !inits.has(nameIn(o)) && !startAgain.has(nameIn(o))));
  return [
    ...observed.filter((o) => !kept.has(o)).map((o) => removeAction(pod, nameIn(o), o, reason)),
    { kind: 'setup-pod', pod: pod.name, reason },
    ...planPodContainers(pod, [...kept], input, true),
  ];
}

function planPodContainers(
  pod: DesiredPod,
  observed: ObservedContainer[],
  input: PlanInput,
  sandboxReady = false,
): Action[] {
  const out: Action[] = [];
  const seen = input.observed.sandboxes.get(pod.name);
  const relink = sandboxReady ? undefined : relinkReason(pod, seen);
  const sandbox = sandboxReady || relink ? 'whole' : checkSandbox(pod, seen);
  if (relink) out.push({ kind: 'setup-pod', pod: pod.name, reason: `${pod.name}: ${relink}` });
  if ((sandbox === 'missing' || sandbox === 'broken') && observed.length > 0)
    return planSandboxAgain(pod, observed, input);
  const restart = planInitChanged(pod, observed, input.observed.images);
  if (restart) return [...out, ...restart];
  const known = new Set([...pod.initContainers, ...pod.containers].map((c) => c.name));
  for (const o of observed) {
    if (!known.has(nameIn(o))) {
      out.push(removeAction(pod, nameIn(o), o, `${pod.name}/${nameIn(o)}: no longer in the pod`));
    }
  }
  if (sandbox === 'missing' || sandbox === 'broken') {
    const what = sandbox === 'missing' ? 'new pod' : 'incomplete sandbox, set up again';
    out.push({
      kind: 'setup-pod',
      pod: pod.name,
      reason: `${pod.name}: ${what} (network namespace, volumes)`,
    });
  }
  const fresh = sandboxReady || sandbox === 'missing' || sandbox === 'broken';
  const stamps = fresh ? {} : (input.observed.sandboxes.get(pod.name)?.stamps ?? {});
  out.push(...planConfigVolumes(pod, stamps, observed, input.observed.images));
  // By name once: each lookup scanning the pod's containers made a pod of many containers cost their square.
  const byName = new Map<string, ObservedContainer>();
  for (const o of observed) if (!byName.has(nameIn(o))) byName.set(nameIn(o), o);
  const find = (c: DesiredContainer) => byName.get(c.name);
  // Init containers run to completion, in order, unless a container of the pod runs (the
  // kubelet's rule): an app container kept from before a new sandbox does not skip them.
  // A native sidecar counts as done once it runs and has started; it is kept running after that, and stopped
  // once the app containers have finished for good (sidecars.ts).
  if (isPodFinished(pod, find)) return [...out, ...stopSidecars(pod, find)];
  if (!pod.containers.some((c) => find(c) && find(c)?.state !== 'exited')) {
    // An init container failed under restartPolicy Never, and not changed since: the pod has
    // failed, and its sidecars stop (the kubelet kills the pod); an edit of it makes it again.
    const failed = pod.initContainers.find(
      (c) =>
        hasInitFailedForGood(pod, c, find(c)) &&
        planContainer(pod, c, find(c), input).every((a) => a.kind === 'wait'),
    );
    if (failed)
      return [...out, ...stopSidecars(pod, find, `${failed.name} failed under restartPolicy Never`)];
    for (const [i, c] of pod.initContainers.entries()) {
      const o = find(c);
      const acts = planContainer(pod, c, o, input);
      // Made again for a changed spec: the init containers after it go too, running or done, and
      // run again after it, in order (never beside it, nor skipped on what the old one did).
      if (acts.some((a) => a.kind === 'remove')) out.push(...removeLaterInits(pod, i, find, c.name));
      out.push(...acts);
      // A sidecar is done once it runs and has started (its startup probe passed).
      const held = c.sidecar && o?.state === 'running' && acts.length === 0;
      const waiting = held ? sidecarNotStarted(pod, c, o, input.observed.health) : undefined;
      if (waiting) return [...out, waiting];
      const done = c.sidecar
        ? held
        : o !== undefined && o.state === 'exited' && o.exitCode === 0 && acts.length === 0;
      if (!done) return out;
    }
  } else {
    for (const c of pod.initContainers.filter((x) => x.sidecar))
      out.push(...planContainer(pod, c, find(c), input));
  }
  for (const c of pod.containers) out.push(...planContainer(pod, c, find(c), input));
  return out;
}

/** One desired pod's actions, after its task in progress (if any) was told. */
function planDesired(
  pod: DesiredPod,
  ran: ObservedContainer[],
  input: PlanInput,
  unpullable: Set<string>,
  portHeld: string | undefined,
): Action[] {
  const failures = input.failures ?? {};
  const actions: Action[] = [];
  const deadline = planActiveDeadline(pod, ran, input.observed.sandboxes.get(pod.name)?.active, input.now);
  actions.push(...(deadline?.actions ?? []));
  if (deadline?.expired) return actions; // past activeDeadlineSeconds: stopped, Failed, never restarted
  if (pod.waitingFor) {
    // Nothing is made or changed before every reference resolves; what runs is kept.
    actions.push({
      kind: 'wait',
      pod: pod.name,
      reason: `${pod.name}: waiting for ${pod.waitingFor.join(', ')}`,
    });
    return actions;
  }
  if (portHeld) return [...actions, { kind: 'wait', pod: pod.name, reason: portHeld }];
  const acts = planPod(pod, ran, input, unpullable);
  const failed =
    failures[podKey(pod.name)] && activeFailure(failures, podKey(pod.name), input.now, podFingerprint(pod));
  // The failure of an init container that failed for good (restartPolicy Never) is no attempt to
  // back off from: nothing of the pod is tried again, and its sidecars stop at once.
  const final = pod.initContainers.find((c) => c.name === failed?.container);
  const ended = final && ran.find((o) => nameIn(o) === final.name);
  if (final && hasInitFailedForGood(pod, final, ended)) return [...actions, ...acts];
  return [...actions, ...(failed ? heldByFailure(pod, acts, failed, input.now) : acts)];
}

export function plan(input: PlanInput): Action[] {
  const { desired, observed, frozen } = input;
  const failures = input.failures ?? {};
  const inFlight = input.inFlight ?? new Map<string, string>();
  const busy = (pod: string): Action | undefined => {
    const doing = inFlight.get(podKey(pod));
    return doing === undefined ? undefined : { kind: 'wait', pod, reason: `${pod}: ${doing}` };
  };
  const actions: Action[] = [];
  // 1. Images, first.
  const { actions: pulls, unpullable } = planImages(input);
  actions.push(...pulls);
  // 2. Pods that are gone from the manifests.
  const mine = observed.containers.filter((c) => c.annotations[ANNOTATION.owner] === OWNER_MANIFESTS);
  // Each pod's containers, grouped once: filtering all of them for each pod cost pods × containers.
  const minePerPod = new Map<string, ObservedContainer[]>();
  for (const c of mine) {
    const list = minePerPod.get(podOf(c));
    if (list) list.push(c);
    else minePerPod.set(podOf(c), [c]);
  }
  const mineOf = (pod: string) => [...(minePerPod.get(pod) ?? [])];
  const desiredNames = new Set(desired.pods.map((p) => p.name));
  const gone = new Set(
    [...podFolders(observed)]
      .filter(([p, f]) => !desiredNames.has(p) && !frozen.has(p) && (f === undefined || f === input.folder))
      .map(([p]) => p),
  );
  for (const pod of [...gone].sort()) {
    const working = busy(pod);
    if (working) {
      actions.push(working);
      continue;
    }
    const failed = activeFailure(failures, podKey(pod), input.now);
    if (failed) {
      actions.push(backingOff(pod, `${pod}: removal`, failed, input.now));
      continue;
    }
    const file = mineOf(pod)[0]?.annotations[ANNOTATION.source] ?? observed.sandboxes.get(pod)?.source;
    actions.push(
      ...guarded(pod, file, () => [
        ...stopGonePod(pod, mineOf(pod)),
        { kind: 'teardown-pod', pod, reason: `${pod}: no longer in the manifests` },
      ]),
    );
  }
  // 3. Each desired pod.
  for (const [pod, why] of [...frozen].sort()) {
    if (minePerPod.has(pod)) actions.push({ kind: 'wait', pod, reason: `${pod}: kept as it runs (${why})` });
  }
  const portWaits = planPortWaits(desired.pods, input.observed.sandboxes, input.observed.hostPorts);
  for (const pod of desired.pods) {
    if (frozen.has(pod.name)) continue;
    const working = busy(pod.name);
    if (working) {
      actions.push(working);
      continue;
    }
    const portHeld = portWaits.get(pod.name);
    actions.push(
      ...guarded(pod.name, pod.file, () => planDesired(pod, mineOf(pod.name), input, unpullable, portHeld)),
    );
  }
  return actions;
}
