// What must be unique or well-formed across a pod, as Kubernetes' validation says it, and what a
// schema cannot say: a volume name given twice (the later one silently won: a reviewer reading the
// first `emptyDir` missed the second's `hostPath: /etc`), two mounts at one path in a container (the
// later shadowed the earlier; a warning when they write it differently, `/data` and `/data/`, which a
// cluster takes), a host port the pod publishes twice (refused only when the pod was
// started), port names (IANA service names: probes and hooks refer to ports by them) given twice in
// a container, a hostPath with a `..` segment (a cluster refuses it; a path read one way by a
// reviewer and another by the kernel), and a topologySpreadConstraints pair of topologyKey and
// whenUnsatisfiable given twice (berth ignores the field, but a cluster refuses the file). Pure.
import { posix } from 'node:path';
import { isSeq } from 'yaml';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { describePort, findDuplicatePort, publishedPorts } from '../network/ports.js';
import type { PodManifest } from './kinds.js';
import { at, type ParsedDoc } from './position.js';

/** An IANA service name, as Kubernetes checks port names: at most 15, a-z 0-9 '-', a letter, no '--'. */
export const PORT_NAME = /^(?=.*[a-z])(?!.*--)[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;

export function checkPodUniques(p: ParsedDoc): Diagnostic[] {
  const pod = p.value as PodManifest;
  const out: Diagnostic[] = [];
  const err = (path: Array<string | number>, message: string) =>
    out.push(at(p, path, 'ERR_MANIFEST_INVALID', message));

  const volumes = new Set<string>();
  for (const [i, v] of (pod.spec.volumes ?? []).entries()) {
    if (volumes.has(v.name))
      err(['spec', 'volumes', i, 'name'], `volume name "${v.name}" is used twice (a cluster rejects it too)`);
    volumes.add(v.name);
    const host = v.hostPath?.path;
    if (host?.split('/').includes('..'))
      err(
        ['spec', 'volumes', i, 'hostPath', 'path'],
        `hostPath ${host} must not contain '..' (a cluster rejects it too): write the path it means`,
      );
  }

  const published: Array<{ path: Array<string | number>; port: ReturnType<typeof publishedPorts>[0] }> = [];
  for (const list of ['initContainers', 'containers'] as const) {
    for (const [i, c] of (pod.spec[list] ?? []).entries()) {
      const here = ['spec', list, i];
      // A cluster compares mountPaths as written: `/data` twice is refused, `/data` and `/data/` are
      // two paths to it (and the runtime mounts both, the later over the earlier): a warning.
      const paths = new Set<string>();
      const cleaned = new Map<string, { mountPath: string; name: string }>();
      for (const [j, m] of (c.volumeMounts ?? []).entries()) {
        const path = [...here, 'volumeMounts', j, 'mountPath'];
        const dst = posix.normalize(m.mountPath).replace(/(?<=.)\/+$/, '');
        const earlier = cleaned.get(dst);
        if (paths.has(m.mountPath))
          err(
            path,
            `container ${c.name} mounts two volumes at ${m.mountPath}: the later would hide the earlier (a cluster rejects it too)`,
          );
        else if (earlier !== undefined)
          out.push(
            at(
              p,
              path,
              'WARN_MOUNT_HIDDEN',
              `container ${c.name} mounts volume ${m.name} at ${m.mountPath}, the path of ${earlier.mountPath} (volume ${earlier.name}): a cluster takes both, and berth mounts both in order, as containerd and runc do: ${m.name} over ${earlier.name}, which it hides`,
            ),
          );
        paths.add(m.mountPath);
        if (earlier === undefined) cleaned.set(dst, { mountPath: m.mountPath, name: m.name });
      }
      const names = new Set<string>();
      for (const [j, port] of (c.ports ?? []).entries()) {
        if (port.name !== undefined) {
          if (!PORT_NAME.test(port.name))
            err(
              [...here, 'ports', j, 'name'],
              `port name "${port.name}" must be at most 15 lowercase letters, digits and '-', with a letter and no '--', as a cluster requires`,
            );
          else if (names.has(port.name))
            err(
              [...here, 'ports', j, 'name'],
              `port name "${port.name}" is used twice in container ${c.name}`,
            );
          names.add(port.name);
        }
        // Only the containers' ports are published (pod-network.ts), as the kubelet does.
        const [mapped] = list === 'containers' ? publishedPorts([port]) : [];
        if (mapped) published.push({ path: [...here, 'ports', j, 'hostPort'], port: mapped });
      }
    }
  }
  const twice = findDuplicatePort(published.map((x) => x.port));
  if (twice) {
    const clashing = published.filter((x) => findDuplicatePort([twice, x.port]) !== undefined);
    const last = clashing.at(-1);
    // A cluster compares address, port and protocol exactly; 0.0.0.0 beside one address clashes here only.
    const exact = clashing.every((x) => x.port.hostIP === twice.hostIP);
    err(
      last?.path ?? ['spec'],
      `pod ${pod.metadata.name} publishes host port ${describePort(twice)} twice${exact ? ' (a cluster rejects it too)' : ' (on every address and on one of them)'}`,
    );
  }
  // The tier check took the warned field out of the value: the document still has it.
  const spread = p.doc.getIn(['spec', 'topologySpreadConstraints'], true);
  const pairs = new Set<string>();
  // Read as a cluster decodes it: aliases and `<<` merges resolved (toJSON alone leaves them be).
  for (const [i, c] of ((isSeq(spread) ? spread.toJS(p.doc) : []) as unknown[]).entries()) {
    if (c === null || typeof c !== 'object') continue;
    const { topologyKey, whenUnsatisfiable } = c as Record<string, unknown>;
    const pair = JSON.stringify([topologyKey, whenUnsatisfiable]);
    if (pairs.has(pair))
      err(
        ['spec', 'topologySpreadConstraints', i],
        `topologySpreadConstraints.${i} repeats topologyKey ${String(topologyKey)} with whenUnsatisfiable ${String(whenUnsatisfiable)} (a cluster rejects it)`,
      );
    pairs.add(pair);
  }
  return out;
}
