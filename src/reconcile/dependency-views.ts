// What `berth ps` says of a pod held by the pods it depends on (`berth.dev/depends-on`): the pass
// records what holds it (status.ts: the images, every dependency), and this tells the wait from
// how those pods stand when ps is asked: their containers as they are now and the prober's
// findings now, by the planner's own rule and words (plan-dependencies.ts). The daemon looks again
// only when a gate flips (started, ready, an exit), so the pass's text would go stale: a readiness
// probe failing with another message, a dependency that ended. A dependency that holds now is not
// named (the next pass starts the pod); once none holds and no image is missing, nothing. Pure.
import type { HealthFile } from '../health/health-file.js';
import type { ContainerProbes, ProbeKind } from '../health/probe-spec.js';
import type { ContainerState } from '../runtime/containers.js';
import { shouldRestart } from '../runtime/restart.js';
import {
  currentOf,
  type GateContainer,
  type GateView,
  gateReadiness,
  heldReason,
  unmetPhrase,
} from './plan-dependencies.js';
import { ANNOTATION } from './plan-types.js';
import type { PodStatus } from './status.js';

/** A container as ps reads it (pod-views.ts's ObservedRecord). */
export interface SeenContainer {
  record: { id: string; name: string; annotations?: Record<string, string> };
  status: { state: ContainerState; exitCode: number | null; reason?: string | null };
  postStartRunning?: boolean;
}

const probesOf = (kinds: ProbeKind[] = []): ContainerProbes =>
  Object.fromEntries(kinds.map((k) => [k, {}])) as ContainerProbes; // readinessOf asks which there are

/** A dependency's containers as the gate reads them now; `known`: its pod as the last pass knew it. */
function gateViewOf(
  condition: 'ready' | 'started' | 'completed',
  known: PodStatus | undefined,
  seen: SeenContainer[],
  health: HealthFile | undefined,
): GateView {
  const nameOf = (s: SeenContainer) => s.record.annotations?.[ANNOTATION.container] ?? s.record.name;
  const names = known?.containers
    ? [...(condition === 'ready' ? (known.sidecars ?? []) : []), ...known.containers]
    : [...new Set(seen.map(nameOf))];
  return {
    names,
    containerOf(name: string): GateContainer | undefined {
      const named = seen.filter((s) => nameOf(s) === name);
      const s = currentOf(named, (x) => x.status.state === 'running');
      if (!s) return undefined;
      const running = s.status.state === 'running';
      const observed = {
        id: s.record.id,
        running,
        ...(s.postStartRunning ? { postStartRunning: true } : {}),
      };
      const c = known ? { runtimeName: s.record.name, probes: probesOf(known.probes?.[name]) } : undefined;
      const own = known?.containerRestarts?.[name];
      const policy = known?.containers?.includes(name)
        ? (own?.policy ?? known.restartPolicy ?? 'Always')
        : undefined;
      const final =
        policy && s.status.state === 'exited' && !shouldRestart(policy, s.status.exitCode, own?.rules)
          ? policy
          : undefined;
      return {
        state: s.status.state,
        exitCode: s.status.exitCode,
        lost: s.status.reason === 'lost',
        readiness: gateReadiness(c, s.record.name, observed, health),
        ...(final ? { final } : {}),
      };
    },
  };
}

/** The wait of pod `name` that `held` records, as things stand now; undefined when nothing holds it. */
export function heldWaitNow(
  name: string,
  held: NonNullable<PodStatus['held']>,
  pods: Record<string, PodStatus>,
  seen: (pod: string) => SeenContainer[],
  health: HealthFile | undefined,
): string | undefined {
  const phrases = held.dependsOn.flatMap(
    (d) => unmetPhrase(d, gateViewOf(d.condition, pods[d.pod], seen(d.pod), health))?.phrase ?? [],
  );
  if (held.images.length + phrases.length === 0) return undefined;
  return heldReason(name, held.images, phrases);
}
