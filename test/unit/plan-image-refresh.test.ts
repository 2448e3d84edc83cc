// An `Image` with pullPolicy Always is resolved again on a schedule (it was accepted and
// ignored: once in the store it was never pulled again, so a moved tag was never followed).
import { describe, expect, it } from 'vitest';
import type { LoadedDoc } from '../../src/manifest/kinds.js';
import { desiredState } from '../../src/reconcile/desired.js';
import { plan } from '../../src/reconcile/plan.js';
import type { PlanInput } from '../../src/reconcile/plan-types.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
const NOW = Date.parse('2026-11-30T12:00:00Z');
const REF = 'registry.lan/app:1';

const image = (pullPolicy?: 'Always' | 'IfNotPresent'): LoadedDoc => ({
  file: '/m/app.yaml',
  line: 1,
  doc: {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Image',
    metadata: { name: 'app' },
    spec: { ref: REF, ...(pullPolicy ? { pullPolicy } : {}) },
  },
});

function input(doc: LoadedDoc, pulledAt: number, o: Partial<PlanInput> = {}): PlanInput {
  return {
    folder: '/m',
    desired: desiredState([doc], host),
    observed: {
      images: new Map([[REF, 'sha256:aaa']]),
      pulledAt: new Map([[REF, pulledAt]]),
      containers: [],
      sandboxes: new Map(),
    },
    frozen: new Map(),
    now: NOW,
    imageRefreshMs: 300_000,
    ...o,
  };
}

describe('Image pullPolicy Always', () => {
  it('is pulled again once the refresh interval has passed since its last pull', () => {
    expect(plan(input(image('Always'), NOW - 301_000))).toEqual([
      {
        kind: 'pull',
        image: REF,
        for: ['Image app'],
        reason: `${REF}: pullPolicy Always, last pulled 301 s ago (Image app)`,
      },
    ]);
  });
  it('before that, waits until then (the daemon wakes for it)', () => {
    expect(plan(input(image('Always'), NOW - 60_000))).toEqual([
      {
        kind: 'wait',
        pod: '',
        reason: `${REF}: pullPolicy Always, resolved again in 240 s`,
        until: NOW + 240_000,
      },
    ]);
  });
  it('IfNotPresent, or no schedule configured: never pulled again', () => {
    expect(plan(input(image('IfNotPresent'), NOW - 10 * 86_400_000))).toEqual([]);
    expect(plan(input(image(), NOW - 10 * 86_400_000))).toEqual([]);
    expect(plan(input(image('Always'), NOW - 10 * 86_400_000, { imageRefreshMs: undefined }))).toEqual([]);
  });
  it('a pull under way or a failure backing off is left alone', () => {
    const inFlight = new Map([[`image/${REF}`, 'pulling']]);
    expect(plan(input(image('Always'), 0, { inFlight }))).toEqual([]);
    const failures = {
      [`image/${REF}`]: { attempts: 1, error: 'ERR_X: down', at: NOW - 1000, retryAt: NOW + 9000 },
    };
    expect(plan(input(image('Always'), 0, { failures }))).toEqual([]);
  });
});
