// Metrics from what berth already knows (pods as `berth ps` shows them, containers as the last
// pass observed them, per-container usage read from cgroups), as Prometheus families. Pure.

import type { ObservedContainer } from '../reconcile/plan-types.js';
import { ANNOTATION, OWNER_MANIFESTS } from '../reconcile/plan-types.js';
import type { PodView } from '../reconcile/pod-views.js';
import { family, type MetricFamily, type Sample } from './metrics.js';

const PHASES: PodView['phase'][] = ['Pending', 'Running', 'Succeeded', 'Failed'];
const STATES = ['created', 'running', 'stopped', 'exited', 'unknown'];

export interface ContainerUsage {
  cpuSeconds?: number;
  memoryBytes?: number;
}

/** pod and container names of a container berth made from a manifest; its runtime name otherwise. */
function labelsOf(c: ObservedContainer): Record<string, string> {
  return c.annotations[ANNOTATION.owner] === OWNER_MANIFESTS
    ? { pod: c.annotations[ANNOTATION.pod] ?? '', container: c.annotations[ANNOTATION.container] ?? c.name }
    : { pod: '', container: c.name };
}

export function stateFamilies(
  pods: readonly PodView[],
  containers: readonly ObservedContainer[],
  usage: ReadonlyMap<string, ContainerUsage>,
): MetricFamily[] {
  const byPhase = new Map<string, number>(PHASES.map((p) => [p, 0]));
  for (const p of pods) byPhase.set(p.phase, (byPhase.get(p.phase) ?? 0) + 1);
  const byState = new Map<string, number>(STATES.map((s) => [s, 0]));
  for (const c of containers) byState.set(c.state, (byState.get(c.state) ?? 0) + 1);
  const restarts: Sample[] = [];
  const cpu: Sample[] = [];
  const memory: Sample[] = [];
  for (const c of containers) {
    const labels = labelsOf(c);
    if (c.annotations[ANNOTATION.owner] === OWNER_MANIFESTS)
      restarts.push({ labels, value: Number(c.annotations[ANNOTATION.restarts] ?? 0) || 0 });
    const u = usage.get(c.id);
    if (u?.cpuSeconds !== undefined) cpu.push({ labels, value: u.cpuSeconds });
    if (u?.memoryBytes !== undefined) memory.push({ labels, value: u.memoryBytes });
  }
  return [
    family('berth_pods', 'gauge', 'Pods by phase, as berth ps shows them.', [
      ...[...byPhase].map(([phase, value]) => ({ labels: { phase }, value })),
    ]),
    family('berth_containers', 'gauge', 'Containers by state.', [
      ...[...byState].map(([state, value]) => ({ labels: { state }, value })),
    ]),
    family('berth_container_restarts_total', 'counter', 'Restarts of each container of a pod.', restarts),
    family(
      'berth_container_cpu_seconds_total',
      'counter',
      'CPU time used by each running container (its cgroup).',
      cpu,
    ),
    family(
      'berth_container_memory_bytes',
      'gauge',
      'Memory used by each running container (its cgroup).',
      memory,
    ),
  ];
}
