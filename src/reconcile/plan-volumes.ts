// A pod's config volumes in the plan: each whose content on the host (its `..data` stamp) is not
// the desired one is written, in place, before any container of the pod is made, and running
// containers are left alone: they see the new files at once (the `..data` swap). Pure.
import type { DesiredPod } from './desired.js';
import type { Action } from './plan-types.js';

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
