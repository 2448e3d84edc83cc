// The one line systemd shows for berth (`systemctl status`: "Status: …"), from what a pass saw:
// "12 pods running, 1 waiting: web (waiting for image registry.lan/app:2)". Pure.
import type { Action, ObservedContainer } from '../reconcile/plan-types.js';
import { ANNOTATION, OWNER_MANIFESTS } from '../reconcile/plan-types.js';

const SHOWN = 3;
const REASON_MAX = 60;

/** A plan's reasons name their pod first (`web: waiting for …`); the line names it already. */
function withoutPod(pod: string, reason: string): string {
  return reason.startsWith(`${pod}: `) ? reason.slice(pod.length + 2) : reason;
}

export function statusLine(containers: readonly ObservedContainer[], remaining: readonly Action[]): string {
  const waiting = new Map<string, string>();
  for (const a of remaining)
    if (a.kind === 'wait' && a.pod && !waiting.has(a.pod)) waiting.set(a.pod, withoutPod(a.pod, a.reason));
  const running = new Set<string>();
  for (const c of containers) {
    const pod = c.annotations[ANNOTATION.pod];
    if (
      c.annotations[ANNOTATION.owner] === OWNER_MANIFESTS &&
      pod &&
      c.state === 'running' &&
      !waiting.has(pod)
    )
      running.add(pod);
  }
  const plural = (n: number) => (n === 1 ? 'pod' : 'pods');
  let line = `${running.size} ${plural(running.size)} running`;
  if (waiting.size > 0) {
    const shown = [...waiting]
      .slice(0, SHOWN)
      .map(([pod, why]) => `${pod} (${why.length > REASON_MAX ? `${why.slice(0, REASON_MAX - 1)}…` : why})`);
    line += `, ${waiting.size} waiting: ${shown.join(', ')}${waiting.size > SHOWN ? ', …' : ''}`;
  }
  return line;
}
