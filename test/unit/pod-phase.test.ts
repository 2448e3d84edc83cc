// The pod phase `ps` shows, as Kubernetes defines it: a pod whose containers will be restarted is
// Running (in its back-off too), never Failed or Succeeded; only a pod whose containers have all
// ended for good is.
import { describe, expect, it } from 'vitest';
import { type ContainerView, phaseOf } from '../../src/reconcile/pod-views.js';

const c = (state: string, exitCode: number | null = null) =>
  ({ state, exitCode }) as unknown as ContainerView;
const running = c('running');
const ok = c('exited', 0);
const bad = c('exited', 137);
const lost = c('exited', null);

describe('phaseOf', () => {
  it.each([
    ['nothing started yet', [c('waiting')], 'Always', 'Pending'],
    ['one created, one running', [c('created'), running], 'Never', 'Pending'],
    ['running', [running], 'Always', 'Running'],
    ['Always: killed, in its back-off', [bad], 'Always', 'Running'],
    ['Always: exited 0, restarted all the same', [ok], 'Always', 'Running'],
    ['OnFailure: exited 137, to be restarted', [bad], 'OnFailure', 'Running'],
    ['OnFailure: all exited 0', [ok, ok], 'OnFailure', 'Succeeded'],
    ['Never: one still running, one done', [running, ok], 'Never', 'Running'],
    ['Never: all exited 0', [ok], 'Never', 'Succeeded'],
    ['Never: one failed', [ok, bad], 'Never', 'Failed'],
    ['Never: lost with the host (no exit code)', [lost], 'Never', 'Failed'],
  ] as const)('%s: %s', (_what, app, policy, want) => {
    expect(phaseOf([...app], policy)).toBe(want);
  });

  it('an init container that exited non-zero fails the pod under Never only (it is retried under the others)', () => {
    expect(phaseOf([c('waiting')], 'Never', [c('exited', 3)])).toBe('Failed');
    expect(phaseOf([c('waiting')], 'OnFailure', [c('exited', 3)])).toBe('Pending');
    expect(phaseOf([c('waiting')], 'Always', [c('exited', 3)])).toBe('Pending');
    expect(phaseOf([c('waiting')], 'Never', [ok, running])).toBe('Pending');
  });
});
