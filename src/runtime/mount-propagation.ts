// A propagating volume mount needs its host path on a mount that propagates: HostToContainer
// (rslave) sees mounts made later on the host only when the host path is on a shared (or slave)
// mount, Bidirectional (rshared) only on a shared one, as CRI runtimes check before they create
// the container. Most hosts booted by systemd have `/` shared; a private one is a clear error that
// says how to make it shared, never a mount that silently does not propagate.
import { readFileSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { BerthError } from '../lib/errors.js';
import type { MountPropagation } from './spec.js';

export type HostPropagation = 'shared' | 'slave' | 'private';

const unescapeOctal = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** The propagation of the mount that holds `path` (absolute, symlinks resolved), from mountinfo's text. Pure. */
export function hostPropagationOf(mountinfo: string, path: string): HostPropagation {
  let best: { point: string; tags: string[] } | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 6) continue;
    const point = unescapeOctal(fields[4] ?? '');
    const inside = point === '/' || path === point || path.startsWith(`${point}/`);
    // Later lines are mounted over earlier ones at the same point: the last longest one holds the path.
    if (inside && (!best || point.length >= best.point.length)) best = { point, tags: fields.slice(6, dash) };
  }
  const tags = best?.tags ?? [];
  if (tags.some((t) => t.startsWith('shared:'))) return 'shared';
  if (tags.some((t) => t.startsWith('master:'))) return 'slave';
  return 'private';
}

/** Whether a mount with `wanted` propagation can work on a host path whose mount is `host`. Pure. */
export function propagationProblem(
  source: string,
  wanted: MountPropagation,
  host: HostPropagation,
): string | undefined {
  if (wanted === 'rshared' && host !== 'shared')
    return `Bidirectional mount propagation needs ${source} on a shared mount; it is on a ${host} one (make it shared: mount --bind ${source} ${source} && mount --make-rshared ${source})`;
  if (wanted === 'rslave' && host === 'private')
    return `HostToContainer mount propagation needs ${source} on a shared or slave mount; it is on a private one (make it shared: mount --bind ${source} ${source} && mount --make-rshared ${source})`;
  return undefined;
}

/** The nearest existing ancestor's real path: a volume's directory may be made only at create. */
function realOrParent(path: string): string {
  for (let p = path; ; p = dirname(p)) {
    try {
      return realpathSync(p);
    } catch {
      if (p === dirname(p)) return p;
    }
  }
}

/** Throws ERR_MOUNT_PROPAGATION when the host path's mount cannot propagate as asked. */
export function checkPropagationSource(source: string, wanted: MountPropagation): void {
  const host = hostPropagationOf(readFileSync('/proc/self/mountinfo', 'utf8'), realOrParent(source));
  const problem = propagationProblem(source, wanted, host);
  if (problem) throw new BerthError('ERR_MOUNT_PROPAGATION', 'invalid', problem);
}
