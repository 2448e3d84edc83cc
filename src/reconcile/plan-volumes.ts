// A pod's config volumes in the plan: each whose content on the host (its `..data` stamp) is not
// the desired one is written, in place, before any container of the pod is made, and running
// containers are left alone: they see the new files at once (the `..data` swap). Pure.
//
// Config volumes are mounted read-only, so no container writes them, except one that still runs
// from before its volume became one: an emptyDir changed into a ConfigMap, Secret, downward API or
// projected volume of the same name is the same directory, `<pods>/<pod>/volumes/<name>`, which the
// old container mounts read-write. berth clears what it left there and writes the new files as
// root; a container writing beside that could swap a directory for a link to a host directory
// between berth's look and its removal or write, and rewrite the files its successor reads. So
// such a container is removed (its grace period and preStop kept) before the volume is written:
// the removal its changed spec asks anyway, only earlier (removeWritersFirst).
import type { DesiredPod } from './desired.js';
import { type Action, ANNOTATION, type ObservedContainer, removeAction } from './plan-types.js';
import { parseStoredSpec } from './spec-hash.js';

/** `stamps`: what the host holds, by volume path (empty for a sandbox that is being set up). */
export function planConfigVolumes(pod: DesiredPod, stamps: Record<string, string>): Action[] {
  return (pod.configVolumes ?? [])
    .filter((v) => stamps[v.path] !== v.stamp)
    .map((v) => {
      const what = v.objects.length > 0 ? v.objects.join(', ') : 'downward API';
      const why = stamps[v.path] === undefined ? `from ${what}` : `${what} changed: updated in place`;
      return {
        kind: 'write-volume',
        pod: pod.name,
        volume: v.name,
        reason: `${pod.name}: volume ${v.name} ${why}`,
      };
    });
}

/**
 * The name of the first of `volumes` (config volumes to be written, by name and host path) that
 * container `o` mounts read-write, at its root or a subPath, as its stored spec says; a spec that
 * cannot be read counts as writing (nothing says it does not).
 */
function writtenBy(o: ObservedContainer, volumes: { name: string; path: string }[]): string | undefined {
  const spec = parseStoredSpec(o.annotations[ANNOTATION.spec]);
  if (!spec) return volumes[0]?.name;
  const mounts = (spec.settings as { mounts?: { source?: unknown; readOnly?: unknown }[] }).mounts ?? [];
  return volumes.find((v) =>
    mounts.some(
      (m) =>
        m.readOnly !== true &&
        typeof m.source === 'string' &&
        (m.source === v.path || m.source.startsWith(`${v.path}/`)),
    ),
  )?.name;
}

/**
 * `actions` (one pod's) with every container that still runs (or was made) and could write a
 * config volume they write removed before the first write-volume, its planned removal moved there
 * (or one added when none was planned), so the volume is written with no container of the pod able
 * to write it. Unchanged when there is none.
 */
export function removeWritersFirst(
  pod: DesiredPod,
  observed: ObservedContainer[],
  actions: Action[],
): Action[] {
  const first = actions.findIndex((a) => a.kind === 'write-volume');
  if (first < 0) return actions;
  const names = new Set(actions.flatMap((a) => (a.kind === 'write-volume' ? [a.volume] : [])));
  const volumes = (pod.configVolumes ?? []).filter((v) => names.has(v.name));
  const early: Action[] = [];
  const moved = new Set<string>();
  for (const o of observed) {
    if (o.state === 'exited') continue;
    const volume = writtenBy(o, volumes);
    if (volume === undefined) continue;
    const container = o.annotations[ANNOTATION.container] ?? o.name;
    const planned = actions.find((a) => a.kind === 'remove' && a.id === o.id);
    const why = `removed before volume ${volume} is written (it mounts it read-write: it was another kind of volume)`;
    early.push({
      ...(planned ?? removeAction(pod, container, o, `${pod.name}/${container}`)),
      reason: `${planned?.reason ?? `${pod.name}/${container}`}; ${why}`,
    });
    moved.add(o.id);
  }
  if (early.length === 0) return actions;
  const rest = (list: Action[]) => list.filter((a) => !(a.kind === 'remove' && moved.has(a.id)));
  return [...rest(actions.slice(0, first)), ...early, ...rest(actions.slice(first))];
}
