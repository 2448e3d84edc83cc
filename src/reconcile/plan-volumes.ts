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
// the removal its changed spec asks anyway, only earlier (removeWritersFirst); one whose removal is
// not planned yet (its new image still to come) keeps running, and the volume waits for it, and so
// does every container of the pod that would be made meanwhile with that volume mounted: it would
// get what the old container left there (its own `..data` and files too) as the volume's content.
// The same holds when the volume's stamp is current: a name that went from ConfigMap to emptyDir
// and back keeps berth's record of the first write, which still matches while the writer changed
// nothing yet; so a volume such a container mounts is always written (a check, at worst a no-op).
// What a container mounts is read from its stored spec, or the desired one when its spec hash says
// it was made from that: a spec that cannot be read never holds a volume for as long as it runs.
import { isObject } from '../oci/descriptor.js';
import type { DesiredPod } from './desired.js';
import { type Action, ANNOTATION, type ObservedContainer } from './plan-types.js';
import { desiredSpecHash, parseStoredSpec } from './spec-hash.js';

/**
 * `stamps`: what the host holds, by volume path (empty for a sandbox that is being set up). A volume
 * whose stamp is the desired one is written too, as a check, while a container of the pod that
 * mounts its directory read-write still runs (`observed`, its stored spec or the desired one's:
 * mountsOf): its record can be one berth wrote before the name was an emptyDir for that container,
 * and still match; the write holds its readers until the container is gone (removeWritersFirst), and
 * then finds the volume as berth left it (nothing is written) or writes it again.
 */
export function planConfigVolumes(
  pod: DesiredPod,
  stamps: Record<string, string>,
  observed: ObservedContainer[] = [],
  images: ReadonlyMap<string, string> = new Map(),
): Action[] {
  const volumes = pod.configVolumes ?? [];
  if (volumes.length === 0) return []; // no stored spec read for a pod without one
  const written = new Set(
    observed.flatMap((o) => (o.state === 'exited' ? [] : writtenBy(o, volumes, pod, images))),
  );
  return volumes
    .filter((v) => stamps[v.path] !== v.stamp || written.has(v.name))
    .map((v) => {
      const what = v.objects.length > 0 ? v.objects.join(', ') : 'downward API';
      const why =
        stamps[v.path] === undefined
          ? `from ${what}`
          : stamps[v.path] !== v.stamp
            ? `${what} changed: updated in place`
            : 'checked again: a container that mounts it read-write still runs (it was another kind of volume)';
      return {
        kind: 'write-volume',
        pod: pod.name,
        volume: v.name,
        reason: `${pod.name}: volume ${v.name} ${why}`,
      };
    });
}

type StoredMount = { source?: unknown; readOnly?: unknown };

/**
 * The mounts container `o` was made with: its stored spec's. Where that cannot be read (no
 * annotation, one cut short or edited, JSON of another shape), the desired container's when `o`'s
 * spec hash is the desired one's: it was made from that very spec. Undefined when nothing says.
 */
function mountsOf(
  o: ObservedContainer,
  pod: DesiredPod,
  images: ReadonlyMap<string, string>,
): readonly StoredMount[] | undefined {
  const spec = parseStoredSpec(o.annotations[ANNOTATION.spec]);
  if (spec) {
    const mounts = spec.settings.mounts;
    if (mounts === undefined) return [];
    if (Array.isArray(mounts) && mounts.every(isObject)) return mounts as StoredMount[];
  }
  const name = o.annotations[ANNOTATION.container];
  const c = [...pod.initContainers, ...pod.containers].find((x) => x.name === name);
  const digest = c && images.get(c.image);
  if (!c || !digest || o.annotations[ANNOTATION.hash] !== desiredSpecHash(c, digest)) return undefined;
  return c.settings.mounts ?? [];
}

/**
 * The names of `volumes` (config volumes to be written, by name and host path) that container `o`
 * mounts read-write, at its root or a subPath. One whose mounts nothing says (mountsOf) counts as
 * writing them all, and holds them only until its removal is planned: its spec hash is not the
 * desired one's, so it is made again once its image is in the store.
 */
function writtenBy(
  o: ObservedContainer,
  volumes: { name: string; path: string }[],
  pod: DesiredPod,
  images: ReadonlyMap<string, string>,
): string[] {
  const mounts = mountsOf(o, pod, images);
  if (!mounts) return volumes.map((v) => v.name);
  return volumes
    .filter((v) =>
      mounts.some(
        (m) =>
          m.readOnly !== true &&
          typeof m.source === 'string' &&
          (m.source === v.path || m.source.startsWith(`${v.path}/`)),
      ),
    )
    .map((v) => v.name);
}

/**
 * `actions` (one pod's) with every container that still runs (or was made) and could write a
 * config volume they write removed before the first write-volume: its planned removal moved there,
 * in the order the plan had them (one already before it stays where it is). A writer with no
 * removal planned (its new image not in the store yet, so its spec was not compared) is left
 * running, and the volumes it writes are not written this pass: removing it now would stop a
 * container whose replacement cannot start; the pass that replaces it writes them. Unchanged when
 * there is no writer.
 */
export function removeWritersFirst(
  pod: DesiredPod,
  observed: ObservedContainer[],
  actions: Action[],
  images: ReadonlyMap<string, string> = new Map(),
): Action[] {
  if (!actions.some((a) => a.kind === 'write-volume')) return actions;
  const names = new Set(actions.flatMap((a) => (a.kind === 'write-volume' ? [a.volume] : [])));
  const volumes = (pod.configVolumes ?? []).filter((v) => names.has(v.name));
  const writers = new Map<string, string>(); // container id → the first volume it writes
  const held = new Set<string>();
  for (const o of observed) {
    if (o.state === 'exited') continue;
    const written = writtenBy(o, volumes, pod, images);
    if (written.length === 0) continue;
    if (actions.some((a) => a.kind === 'remove' && a.id === o.id)) writers.set(o.id, written[0] as string);
    else for (const v of written) held.add(v);
  }
  const kept = held.size === 0 ? actions : holdVolumeReaders(pod, actions, held);
  const first = kept.findIndex((a) => a.kind === 'write-volume');
  if (first < 0 || writers.size === 0) return kept;
  const moves = (a: Action, i: number) => i > first && a.kind === 'remove' && writers.has(a.id);
  const why = (id: string) =>
    `removed before volume ${writers.get(id)} is written (it mounts it read-write: it was another kind of volume)`;
  const early = kept.flatMap((a, i) =>
    moves(a, i) && a.kind === 'remove' ? [{ ...a, reason: `${a.reason}; ${why(a.id)}` }] : [],
  );
  return [...kept.slice(0, first), ...early, ...kept.slice(first).filter((a, i) => !moves(a, i + first))];
}

/**
 * `actions` without the writes of the `held` volumes, and without the runs of the pod's containers
 * that mount one of them: each such run waits, as the write does, for the pass that replaces the
 * writer.
 */
function holdVolumeReaders(pod: DesiredPod, actions: Action[], held: ReadonlySet<string>): Action[] {
  const paths = (pod.configVolumes ?? []).filter((v) => held.has(v.name));
  const containers = new Map([...pod.initContainers, ...pod.containers].map((c) => [c.name, c]));
  /** The first held volume container `name` mounts, at its root or a subPath. */
  const heldFor = (name: string) =>
    paths.find((v) =>
      (containers.get(name)?.settings.mounts ?? []).some(
        (m) => m.source === v.path || m.source.startsWith(`${v.path}/`),
      ),
    )?.name;
  return actions.flatMap((a): Action[] => {
    if (a.kind === 'write-volume') return held.has(a.volume) ? [] : [a];
    if (a.kind !== 'run' || a.pod !== pod.name) return [a];
    const volume = heldFor(a.container);
    if (volume === undefined) return [a];
    const reason = `${pod.name}/${a.container}: volume ${volume} is not written yet (a container that mounts it read-write still runs: it was another kind of volume)`;
    return [{ kind: 'wait', pod: pod.name, container: a.container, reason }];
  });
}
