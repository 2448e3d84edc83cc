// Pods as `berth ps` and the API show them: the last reconcile's status (status.ts) merged with
// the containers that exist and their live state. A pod shows when either knows it; a container
// the reconcile wants but that does not exist (its creation failed, it waits for an image or a
// dependency) shows as `waiting`. A running sidecar not started yet that holds the pod, and the pods
// it depends on, are told by the containers and the prober's findings now, not the pass's. Pure.
import type { HealthFile } from '../health/health-file.js';
import { namespaceOfIdentity } from '../manifest/identity.js';
import type { PortMapping } from '../network/ports.js';
import { type ContainerStatus, LOST } from '../runtime/containers.js';
import type { ContainerRecord } from '../runtime/record.js';
import { type RestartPolicy, shouldRestart } from '../runtime/restart.js';
import { heldWaitNow } from './dependency-views.js';
import { podKey } from './failures.js';
import { type HealthView, healthViewOf } from './health-view.js';
import { ANNOTATION, OWNER_MANIFESTS } from './plan.js';
import { notStartedReason } from './sidecars.js';
import type { ContainerRestart, ReconcileStatus } from './status.js';

export interface ContainerView {
  name: string;
  state: ContainerStatus['state'] | 'waiting';
  pid: number | null;
  restarts: number;
  exitCode: number | null;
  lastError: string | null;
  init: boolean;
  /** What it wrote at its terminationMessagePath before it exited (at most 4 KiB). */
  terminationMessage?: string;
  /** Its startup probe succeeded (or it has none) and it runs. */
  started: boolean;
  /** Its readiness probe says so (or it has none) and it runs: READY counts these. */
  ready: boolean;
  /** Why it is not ready, when it runs. */
  notReady?: string;
  /** The last result of its probes (the daemon's prober). */
  lastProbe?: HealthView['lastProbe'];
  /** Why liveness (or startup) last restarted it. */
  lastLivenessRestart?: HealthView['lastLivenessRestart'];
}

export interface PodView {
  /** The pod's identity: its name, or `<namespace>.<name>` outside `default` (manifest/identity.ts). */
  name: string;
  namespace: string;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  /** Why it is Failed when no exit says it: DeadlineExceeded (activeDeadlineSeconds). */
  reason?: string;
  /** Ready app containers / app containers, as `1/2` (health-view.ts). */
  ready: string;
  sourceFile: string;
  /** Why the pod is not (yet) as desired, from the last reconcile. */
  waiting: string | null;
  /** The last failure of a pod-wide action (its network namespace, its directories). */
  lastError: string | null;
  /** Its IPv4 address on the bridge network (null: not on it, or not set up). */
  ip: string | null;
  /** Every address it has there: IPv4 first, then IPv6 on a dual-stack network ([]: none). */
  ips: string[];
  /** Its published ports. */
  ports: PortMapping[];
  containers: ContainerView[];
}

export interface ObservedRecord {
  record: ContainerRecord;
  status: ContainerStatus;
  /** Its postStart hook is running (post-start-marks.ts). */
  postStartRunning?: boolean;
}

/**
 * The pod's phase as Kubernetes defines it: Pending until every app container has run; then
 * Running while one runs or will be restarted (under Always every exit is restarted, under
 * OnFailure a non-zero one: a pod in its back-off is Running, not Failed); once all have ended for
 * good, Succeeded when every one exited 0, else Failed. Under Never an init container (`inits`:
 * not the sidecars) that exited non-zero fails the pod: it is not run again.
 */
export function phaseOf(
  app: ContainerView[],
  policy: RestartPolicy = 'Always',
  inits: ContainerView[] = [],
  /** Containers with a restart policy (and rules) of their own, by name. */
  own: Record<string, ContainerRestart> = {},
): PodView['phase'] {
  const restarts = (c: ContainerView) =>
    shouldRestart(own[c.name]?.policy ?? policy, c.exitCode, own[c.name]?.rules);
  if (inits.some((c) => c.state === 'exited' && c.exitCode !== 0 && !restarts(c))) return 'Failed';
  if (app.length === 0 || !app.every((c) => c.state === 'running' || c.state === 'exited')) return 'Pending';
  if (app.some((c) => c.state === 'running' || restarts(c))) return 'Running';
  return app.every((c) => c.exitCode === 0) ? 'Succeeded' : 'Failed';
}

const isInit = (r: ContainerRecord) => {
  try {
    return JSON.parse(r.annotations?.[ANNOTATION.spec] ?? '{}').init === true;
  } catch {
    return false;
  }
};

function exitError(s: ContainerStatus): string | null {
  if (s.oomKilled) return 'OOMKilled';
  if (s.reason === LOST)
    return 'lost: no exit code was recorded (the host went down, or its monitor was killed)';
  return s.state === 'exited' && s.exitCode !== 0 ? `exited ${s.exitCode ?? '?'}` : null;
}

export function podViews(
  observed: ObservedRecord[],
  status: ReconcileStatus | undefined,
  addresses: Map<string, { ip: string | null; ips: string[]; ports: PortMapping[] }> = new Map(),
  /** The daemon's prober's results (none: no daemon runs). */
  health?: HealthFile,
): PodView[] {
  const failures = status?.failures ?? {};
  const imageErrors = new Map<string, string>(); // `pod/container` → why its image is missing
  for (const [key, f] of Object.entries(failures)) {
    if (!key.startsWith('image/')) continue;
    const image = key.slice('image/'.length);
    const why = f.error.includes(image) ? f.error : `pull ${image}: ${f.error}`;
    for (const who of f.for ?? []) imageErrors.set(who, why);
  }
  const byPod = new Map<string, ObservedRecord[]>();
  for (const o of observed) {
    if (o.record.annotations?.[ANNOTATION.owner] !== OWNER_MANIFESTS) continue;
    const pod = o.record.annotations?.[ANNOTATION.pod] ?? '';
    byPod.set(pod, [...(byPod.get(pod) ?? []), o]);
  }
  const names = new Set([...byPod.keys(), ...Object.keys(status?.pods ?? {})]);
  const none = { ip: null, ips: [], ports: [] };
  return [...names].sort().map((name) => {
    const known = status?.pods[name];
    const records = byPod.get(name) ?? [];
    const failure = failures[podKey(name)];
    const view = (container: string, init: boolean): ContainerView => {
      const o = records.find((x) => x.record.annotations?.[ANNOTATION.container] === container);
      const failed =
        failure?.container === container ? failure.error : (imageErrors.get(`${name}/${container}`) ?? null);
      const hv = healthViewOf(
        { runtimeName: o?.record.name ?? `${name}_${container}`, probes: known?.probes?.[container] ?? [] },
        {
          id: o?.record.id ?? '',
          running: o?.status.state === 'running',
          ...(o?.postStartRunning ? { postStartRunning: true } : {}),
        },
        health,
      );
      // A container liveness stopped: that is its last error (its exit code says less).
      const killed = hv.lastLivenessRestart?.reason;
      return {
        name: container,
        state: o?.status.state ?? 'waiting',
        pid: o?.status.pid ?? null,
        restarts: Number(o?.record.annotations?.[ANNOTATION.restarts] ?? 0),
        exitCode: o?.status.exitCode ?? null,
        lastError: failed ?? killed ?? (o ? exitError(o.status) : null),
        init,
        ...(o?.status.terminationMessage !== undefined
          ? { terminationMessage: o.status.terminationMessage }
          : {}),
        ...hv,
      };
    };
    const wanted = [
      ...(known?.initContainers ?? []).map((c) => view(c, true)),
      ...(known?.containers ?? []).map((c) => view(c, false)),
    ];
    const others = records
      .map((o) => ({ o, c: o.record.annotations?.[ANNOTATION.container] ?? o.record.name }))
      .filter(({ c }) => !wanted.some((w) => w.name === c))
      .map(({ o, c }) => view(c, isInit(o.record)));
    const containers = [...wanted, ...others];
    // A sidecar that held the pod at the pass is told as the prober finds it now: still running
    // and not started, why; started (the next pass goes on at once) or gone from running, nothing.
    const held = containers.find((c) => c.name === known?.starting);
    const starting =
      held?.state === 'running' && !held.started
        ? notStartedReason(name, held.name, held.notReady)
        : undefined;
    // A pod held by the pods it depends on: told as they stand now (dependency-views.ts).
    const dependencies = known?.held
      ? heldWaitNow(name, known.held, status?.pods ?? {}, (p) => byPod.get(p) ?? [], health)
      : undefined;
    const waiting = [known?.waiting, dependencies, starting].filter((w) => w !== undefined).join('; ');
    const app = containers.filter((c) => !c.init);
    const inits = containers.filter((c) => c.init && !known?.sidecars?.includes(c.name));
    return {
      name,
      namespace: namespaceOfIdentity(name),
      // A pod no manifest describes now (its containers left as they run): what they did, no more.
      phase: known?.failed
        ? 'Failed'
        : phaseOf(
            app,
            known ? (known.restartPolicy ?? 'Always') : 'Never',
            known ? inits : [],
            known?.containerRestarts,
          ),
      ...(known?.failed ? { reason: known.failed } : {}),
      ready: `${app.filter((c) => c.ready).length}/${app.length}`,
      sourceFile: known?.file || records[0]?.record.annotations?.[ANNOTATION.source] || '',
      waiting: waiting || null,
      lastError: failure && !failure.container ? failure.error : null,
      ...(addresses.get(name) ?? none),
      containers,
    };
  });
}
