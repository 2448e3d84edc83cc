// The order a container's own mounts go to runc in: shallowest first, in their given order at one
// depth, as containerd's CRI orders them, so that `/data/x` listed before `/data` is mounted after
// it, not hidden under it. Pure.
import type { ContainerMount } from './spec.js';

const depthOf = (p: string) => p.split('/').filter((s) => s !== '' && s !== '.').length;

/** `mounts` shallowest first; a stable sort keeps the given order of mounts at one depth. */
export const byDepth = (mounts: readonly ContainerMount[]): ContainerMount[] =>
  [...mounts].sort((a, b) => depthOf(a.destination) - depthOf(b.destination));
