// What ps says of a pod held by a sidecar that has not started: the prober's findings when ps is
// asked, never the text of the pass that found it waiting (a probe may have failed, or passed, since).
import { describe, expect, it } from 'vitest';
import type { HealthFile } from '../../src/health/health-file.js';
import { ANNOTATION, OWNER_MANIFESTS } from '../../src/reconcile/plan.js';
import { type ObservedRecord, podViews } from '../../src/reconcile/pod-views.js';
import type { ReconcileStatus } from '../../src/reconcile/status.js';

const side = (state: 'running' | 'exited'): ObservedRecord =>
  ({
    record: {
      id: 'side-1',
      name: 'web_side',
      annotations: {
        [ANNOTATION.owner]: OWNER_MANIFESTS,
        [ANNOTATION.pod]: 'web',
        [ANNOTATION.container]: 'side',
        [ANNOTATION.spec]: '{"init":true}',
      },
    },
    status: { id: 'side-1', name: 'web_side', state, pid: state === 'running' ? 42 : null, exitCode: null },
  }) as unknown as ObservedRecord;

const status: ReconcileStatus = {
  manifests: '/m',
  pods: {
    web: {
      file: '/m/web.yaml',
      containers: ['app'],
      initContainers: ['side'],
      sidecars: ['side'],
      probes: { side: ['startup'] },
      starting: 'side',
    },
  },
  failures: {},
};

const health = (started: boolean, lastProbe?: { ok: boolean; message: string }): HealthFile => ({
  pid: 1,
  containers: {
    web_side: {
      id: 'side-1',
      started,
      ready: started,
      ...(lastProbe ? { lastProbe: { probe: 'startup', at: '2026-12-03T12:00:00Z', ...lastProbe } } : {}),
    },
  },
});

const waiting = (observed: ObservedRecord[], h?: HealthFile) =>
  podViews(observed, status, new Map(), h)[0]?.waiting;

describe('ps: a pod held by a sidecar not started yet', () => {
  it('says why as the prober finds it now', () => {
    expect(waiting([side('running')])).toBe(
      'web/side: running, not started: probes run only under the daemon (berth daemon)',
    );
    expect(waiting([side('running')], health(false))).toBe('web/side: running, not started');
    expect(waiting([side('running')], health(false, { ok: false, message: 'exit code 1' }))).toBe(
      'web/side: running, not started: startup probe failed: exit code 1',
    );
  });

  it('says nothing of it once the sidecar has started, or runs no more', () => {
    expect(waiting([side('running')], health(true, { ok: true, message: 'exit code 0' }))).toBeNull();
    expect(waiting([side('exited')], health(false))).toBeNull();
  });
});
