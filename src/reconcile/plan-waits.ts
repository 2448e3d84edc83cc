// Waits that say why nothing is done now: a failed pod or pull backing off. Pure.
import type { Action, Failure } from './plan-types.js';

export const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** `web: failed 3 times (ERR_X: …), retry in 40 s` */
export function backingOff(pod: string, what: string, f: Failure, now: number): Action {
  const times = f.attempts === 1 ? 'once' : `${f.attempts} times`;
  return {
    kind: 'wait',
    pod,
    reason: `${what} failed ${times} (${f.error}), retry in ${seconds(f.retryAt - now)}`,
    until: f.retryAt,
  };
}
