// Init containers run one at a time, in order: when one is made again for a changed spec, those after
// it go as well (running or done) and run again after it, as the kubelet starts a static pod whose
// manifest changed over from its first init container. Pure.
import type { DesiredContainer, DesiredPod } from './desired.js';
import { type Action, type ObservedContainer, removeAction } from './plan-types.js';

/** Removing the init containers (not sidecars) after the `i`th that exist, the last first. */
export function removeLaterInits(
  pod: DesiredPod,
  i: number,
  find: (c: DesiredContainer) => ObservedContainer | undefined,
  changed: string,
): Action[] {
  return pod.initContainers
    .slice(i + 1)
    .filter((c) => !c.sidecar)
    .reverse()
    .flatMap((c): Action[] => {
      const o = find(c);
      if (!o) return [];
      const reason = `${pod.name}/${c.name}: ${changed} is made again (changed): it runs again after it`;
      return [removeAction(pod, c.name, o, reason)];
    });
}
