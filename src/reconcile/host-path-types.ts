// A hostPath volume's `type`, as the kubelet applies it before each container is made: what is
// missing made (…OrCreate, or no type), what is there checked (runtime/host-path-open.ts, which the
// container's create applies again to the descriptor it binds). A mismatch fails that container's
// create with the path and what was found, before the one it would replace is removed (it keeps
// running), never a container with the wrong thing mounted.
import { closeSync } from 'node:fs';
import { openHostPath } from '../runtime/host-path-open.js';
import type { ContainerSettings } from '../runtime/spec.js';

export interface TypedHostPath {
  path: string;
  type: string;
}

export async function prepareHostPath(pod: string, h: TypedHostPath): Promise<void> {
  const opened = openHostPath(h.path, { what: `pod ${pod}: hostPath ${h.path}`, type: h.type });
  if (opened) closeSync(opened.fd);
}

/**
 * The container's settings for its create, each hostPath bind with its volume's type, so the
 * create checks it again on the descriptor it binds. Added at each create, never to the desired
 * settings: the spec's hash, and so a running container, does not change with it. Two volumes of
 * one path: the first with a type (both were checked by prepareHostPath). Pure.
 */
export function withHostPathTypes(
  settings: ContainerSettings,
  hostPaths: TypedHostPath[],
): ContainerSettings {
  if (!settings.mounts || hostPaths.length === 0) return settings;
  const typeOf = (source: string) => {
    const same = hostPaths.filter((h) => h.path === source);
    return same.length === 0
      ? undefined
      : (same.find((h) => h.type !== '') ?? (same[0] as TypedHostPath)).type;
  };
  const mounts = settings.mounts.map((m) => {
    const type = m.kind === 'bind' && !m.dataLink ? typeOf(m.source) : undefined;
    return type === undefined ? m : { ...m, hostPathType: type };
  });
  return { ...settings, mounts };
}
