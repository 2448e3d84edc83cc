// sleep (a lifecycle hook action): waits, for as long as the schema allows (365 days, past
// setTimeout's 24.8: lib/long-timeout.ts); cut short by the deadline it fails, as the kubelet's
// sleep hook does ("container terminated before sleep hook finished").
import { setLongTimeout } from '../../lib/long-timeout.js';
import type { ActionResult } from '../action.js';
import { type Deadline, formatSeconds } from './deadline.js';

export function runSleep(seconds: number, deadline: Deadline): Promise<ActionResult> {
  return new Promise((resolve) => {
    if (deadline.signal.aborted) return resolve(deadline.reason());
    const onAbort = () => {
      timer.clear();
      resolve(deadline.reason());
    };
    const timer = setLongTimeout(() => {
      deadline.signal.removeEventListener('abort', onAbort);
      resolve({ ok: true, message: `slept ${formatSeconds(seconds * 1000)} s` });
    }, seconds * 1000);
    deadline.signal.addEventListener('abort', onAbort, { once: true });
  });
}
