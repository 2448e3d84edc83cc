// Waits that say why nothing is done now: a failed pod or pull backing off. Pure.
import { type Action, type Failure, isActionable } from './plan-types.js';

export const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** `web: failed 3 times (ERR_X: …), retry in 40 s` */
export function backingOff(pod: string, what: string, f: Failure, now: number, container?: string): Action {
  const times = f.attempts === 1 ? 'once' : `${f.attempts} times`;
  return {
    kind: 'wait',
    pod,
    ...(container ? { container } : {}),
    reason: `${what} failed ${times} (${f.error}), retry in ${seconds(f.retryAt - now)}`,
    until: f.retryAt,
  };
}

/**
 * A pod's actions while failure `f` backs it off: one wait for them all, unless an app container
 * failed alone (container-config.ts): then only that container's actions wait, and the pod's others
 * go on (its other containers restart on their own back-off, as the kubelet keeps one per container).
 */
export function heldByFailure(
  pod: { name: string; containers: Array<{ name: string }> },
  acts: Action[],
  f: Failure,
  now: number,
): Action[] {
  if (!(f.alone && pod.containers.some((c) => c.name === f.container)))
    return acts.some(isActionable) ? [backingOff(pod.name, pod.name, f, now)] : acts;
  const its = (a: Action) => 'container' in a && a.container === f.container;
  if (!acts.some((a) => its(a) && isActionable(a))) return acts;
  const wait = backingOff(pod.name, `${pod.name}/${f.container}`, f, now, f.container);
  const at = acts.findIndex(its);
  return [...acts.slice(0, at), wait, ...acts.slice(at).filter((a) => !its(a))];
}
