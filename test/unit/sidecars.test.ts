// Native sidecars in the plan: a gone pod stops its app containers first, then its sidecars, the
// last started first (whatever their names); once the app containers have finished for good, the
// running sidecars are stopped and none is started again.
import { describe, expect, it } from 'vitest';
import type { DesiredPod } from '../../src/reconcile/desired.js';
import { ANNOTATION, type ObservedContainer } from '../../src/reconcile/plan-types.js';
import {
  hasInitFailedForGood,
  inStopOrder,
  isPodFinished,
  stopSidecars,
} from '../../src/reconcile/sidecars.js';

const observed = (
  name: string,
  init: boolean,
  startedAt: string,
  state: ObservedContainer['state'] = 'running',
  exitCode: number | null = null,
): ObservedContainer => ({
  id: `${name}-id`,
  name: `p_${name}`,
  state,
  exitCode,
  startedAt,
  finishedAt: null,
  annotations: { [ANNOTATION.container]: name, [ANNOTATION.spec]: JSON.stringify({ init }) },
});

describe('native sidecars', () => {
  it('a gone pod stops app containers first, then sidecars, the last started first', () => {
    const list = [
      observed('a-first-side', true, '2026-11-30T10:00:01Z'),
      observed('b-second-side', true, '2026-11-30T10:00:02Z'),
      observed('z-app', false, '2026-11-30T10:00:03Z'),
    ];
    expect(inStopOrder(list).map(({ o, turn }) => [o.name, turn])).toEqual([
      ['p_z-app', 0],
      ['p_b-second-side', 1],
      ['p_a-first-side', 2],
    ]);
  });

  it('once the app containers are done for good, running sidecars stop, the last first', () => {
    const c = (name: string, init: boolean, sidecar = false) =>
      ({ name, init, ...(sidecar ? { sidecar: true } : {}) }) as DesiredPod['containers'][0];
    const pod = {
      name: 'p',
      restartPolicy: 'Never',
      graceSeconds: 3,
      initContainers: [c('s1', true, true), c('s2', true, true)],
      containers: [c('app', false)],
    } as unknown as DesiredPod;
    const seen = new Map([
      ['s1', observed('s1', true, '2026-11-30T10:00:01Z')],
      ['s2', observed('s2', true, '2026-11-30T10:00:02Z')],
      ['app', observed('app', false, '2026-11-30T10:00:03Z', 'exited', 0)],
    ]);
    const find = (x: { name: string }) => seen.get(x.name);
    expect(isPodFinished(pod, find)).toBe(true);
    expect(stopSidecars(pod, find).map((a) => (a.kind === 'remove' ? [a.container, a.reason] : []))).toEqual([
      ['s2', 'p/s2: the app containers have finished, the sidecar stops'],
      ['s1', 'p/s1: the app containers have finished, the sidecar stops'],
    ]);
    seen.set('app', observed('app', false, '2026-11-30T10:00:03Z', 'running'));
    expect(isPodFinished(pod, find)).toBe(false);
    expect(
      isPodFinished({ ...pod, restartPolicy: 'Always' } as DesiredPod, () =>
        observed('x', false, '', 'exited', 0),
      ),
    ).toBe(false);
  });

  it('an init container that failed under Never finishes the pod (not a sidecar, not under OnFailure)', () => {
    const c = (name: string, sidecar = false) =>
      ({ name, init: true, ...(sidecar ? { sidecar: true } : {}) }) as DesiredPod['containers'][0];
    const pod = { name: 'p', restartPolicy: 'Never' } as unknown as DesiredPod;
    const failed = observed('setup', true, '2026-11-30T10:00:01Z', 'exited', 3);
    expect(hasInitFailedForGood(pod, c('setup'), failed)).toBe(true);
    expect(hasInitFailedForGood(pod, c('side', true), failed)).toBe(false);
    expect(hasInitFailedForGood({ ...pod, restartPolicy: 'OnFailure' }, c('setup'), failed)).toBe(false);
    expect(hasInitFailedForGood(pod, c('setup'), { ...failed, exitCode: 0 })).toBe(false);
    expect(hasInitFailedForGood(pod, c('setup'), undefined)).toBe(false);
  });
});
