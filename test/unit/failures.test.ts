// Failure back-off between passes, and the pods `berth ps` shows from the last reconcile's status
// merged with the containers there are.
import { describe, expect, it } from 'vitest';
import { BerthError } from '../../src/lib/errors.js';
import { activeFailure, backoffMs, type Failures, recordPass } from '../../src/reconcile/failures.js';
import type { Action } from '../../src/reconcile/plan.js';
import { ANNOTATION, OWNER_MANIFESTS } from '../../src/reconcile/plan.js';
import { podViews } from '../../src/reconcile/pod-views.js';
import type { ContainerStatus } from '../../src/runtime/containers.js';
import type { ContainerRecord } from '../../src/runtime/record.js';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const run: Action = {
  kind: 'run',
  pod: 'web',
  container: 'main',
  restarts: 0,
  backoffMs: 0,
  waitForExit: false,
  reason: 'web/main: new container',
};
const pull: Action = { kind: 'pull', image: 'r.lan/a:1', for: ['web/main'], reason: '' };
const boom = new BerthError('ERR_RUNC', 'internal', 'runc create failed');
const live = new Set(['pod/web', 'image/r.lan/a:1']);

describe('recordPass', () => {
  it('counts attempts with a doubling back-off capped at 5 min', () => {
    expect([1, 2, 3, 5, 6, 10].map(backoffMs)).toEqual([10_000, 20_000, 40_000, 160_000, 300_000, 300_000]);
    let f: Failures = {};
    for (let i = 0; i < 3; i++)
      f = recordPass(
        f,
        { done: [], failed: [{ action: run, error: boom }] },
        { now: NOW, fingerprint: () => 'fp1', live },
      );
    expect(f).toEqual({
      'pod/web': {
        container: 'main',
        attempts: 3,
        error: 'ERR_RUNC: runc create failed',
        at: NOW,
        retryAt: NOW + 40_000,
        fingerprint: 'fp1',
      },
    });
    // The manifest changed: the count starts over.
    f = recordPass(
      f,
      { done: [], failed: [{ action: run, error: boom }] },
      { now: NOW, fingerprint: () => 'fp2', live },
    );
    expect(f['pod/web']).toMatchObject({ attempts: 1, retryAt: NOW + 10_000 });
  });

  it("an action cut short by berth's stop (ERR_ABORTED) is no failure: no attempt counted, an earlier record kept as it was", () => {
    const aborted = new BerthError('ERR_ABORTED', 'internal', 'r.lan/a:1: aborted');
    const opts = { now: NOW, fingerprint: () => 'fp', live, stopped: true };
    expect(recordPass({}, { done: [], failed: [{ action: pull, error: aborted }] }, opts)).toEqual({});
    const once = recordPass({}, { done: [], failed: [{ action: pull, error: boom }] }, opts);
    expect(recordPass(once, { done: [], failed: [{ action: pull, error: aborted }] }, opts)).toEqual(once);
    // An abort while berth runs on (a request cut by its own timer) is a failure like any other.
    const running = { ...opts, stopped: false };
    expect(recordPass({}, { done: [], failed: [{ action: pull, error: aborted }] }, running)).toMatchObject({
      'image/r.lan/a:1': { attempts: 1 },
    });
  });

  it('clears what succeeded, keeps what failed in the same pass, drops what is no longer wanted', () => {
    const prev = recordPass(
      {},
      {
        done: [],
        failed: [
          { action: run, error: boom },
          { action: pull, error: new Error('socket hang up') },
        ],
      },
      { now: NOW, fingerprint: () => 'fp', live },
    );
    expect(prev['image/r.lan/a:1']).toMatchObject({
      for: ['web/main'],
      error: 'ERR_INTERNAL: socket hang up',
    });
    const setup: Action = { kind: 'setup-pod', pod: 'web', reason: '' };
    const partly = recordPass(
      prev,
      { done: [pull, setup], failed: [{ action: run, error: boom }] },
      {
        now: NOW,
        fingerprint: () => 'fp',
        live,
      },
    );
    expect(Object.keys(partly)).toEqual(['pod/web']);
    expect(partly['pod/web']?.attempts).toBe(2);
    expect(
      recordPass(partly, { done: [run], failed: [] }, { now: NOW, fingerprint: () => 'fp', live }),
    ).toEqual({});
    expect(
      recordPass(partly, { done: [], failed: [] }, { now: NOW, fingerprint: () => 'fp', live: new Set() }),
    ).toEqual({});
  });
});

const record = (pod: string, container: string, init = false): ContainerRecord =>
  ({
    id: `${pod}-${container}`,
    name: `${pod}_${container}`,
    annotations: {
      [ANNOTATION.owner]: OWNER_MANIFESTS,
      [ANNOTATION.pod]: pod,
      [ANNOTATION.container]: container,
      [ANNOTATION.source]: `/m/${pod}.yaml`,
      [ANNOTATION.restarts]: '2',
      [ANNOTATION.spec]: JSON.stringify({ init }),
    },
  }) as unknown as ContainerRecord;
const status = (state: ContainerStatus['state'], exitCode: number | null = null): ContainerStatus => ({
  id: '',
  name: '',
  image: '',
  state,
  pid: state === 'running' ? 42 : null,
  exitCode,
  oomKilled: false,
  createdAt: '',
  startedAt: null,
  finishedAt: null,
});

describe('activeFailure', () => {
  it('holds until retryAt; a failure recorded ahead of the clock (the clock went back since) holds no longer than its own back-off', () => {
    const f = recordPass(
      {},
      { done: [], failed: [{ action: pull, error: boom }] },
      { now: NOW, fingerprint: () => undefined, live },
    );
    expect(activeFailure(f, 'image/r.lan/a:1', NOW + 9_999)).toBeDefined();
    expect(activeFailure(f, 'image/r.lan/a:1', NOW + 10_000)).toBeUndefined();
    // Recorded while the clock read 2031; now NTP says 2026: no five-year hold.
    const ahead = recordPass(
      {},
      { done: [], failed: [{ action: pull, error: boom }] },
      { now: Date.parse('2031-05-01T10:00:00Z'), fingerprint: () => undefined, live },
    );
    expect(activeFailure(ahead, 'image/r.lan/a:1', NOW)).toBeUndefined();
  });
});

describe('podViews', () => {
  it('merges the last reconcile with what exists: ready counts, waiting containers, last errors', () => {
    const views = podViews(
      [
        { record: record('web', 'main'), status: status('running') },
        { record: record('web', 'init', true), status: status('exited', 0) },
        { record: record('job', 'main'), status: status('exited', 3) },
        { record: record('hand', 'x'), status: status('running') },
      ].map((o, i) => (i === 3 ? { ...o, record: { ...o.record, annotations: {} } } : o)),
      {
        manifests: '/m',
        pods: {
          web: { file: '/m/web.yaml', containers: ['main', 'sidecar'], initContainers: ['init'] },
          api: {
            file: '/m/api.yaml',
            containers: ['main'],
            initContainers: [],
            waiting: 'api: waiting for image r.lan/a:1',
          },
        },
        failures: {
          'pod/web': {
            container: 'sidecar',
            attempts: 2,
            error: 'ERR_RUNC: no such file',
            at: NOW,
            retryAt: NOW,
          },
          'image/r.lan/a:1': {
            for: ['api/main'],
            attempts: 1,
            error: 'ERR_MANIFEST_UNKNOWN: gone',
            at: NOW,
            retryAt: NOW,
          },
        },
      },
    );
    expect(
      views.map((p) => [
        p.name,
        p.phase,
        p.ready,
        p.waiting,
        p.containers.map((c) => [c.name, c.state, c.lastError]),
      ]),
    ).toEqual([
      [
        'api',
        'Pending',
        '0/1',
        'api: waiting for image r.lan/a:1',
        [['main', 'waiting', 'pull r.lan/a:1: ERR_MANIFEST_UNKNOWN: gone']],
      ],
      ['job', 'Failed', '0/1', null, [['main', 'exited', 'exited 3']]],
      [
        'web',
        'Pending',
        '1/2',
        null,
        [
          ['init', 'exited', null],
          ['main', 'running', null],
          ['sidecar', 'waiting', 'ERR_RUNC: no such file'],
        ],
      ],
    ]);
    expect(views[2]?.containers[1]).toMatchObject({ pid: 42, restarts: 2, init: false });
    expect(views[1]?.sourceFile).toBe('/m/job.yaml');
  });
});
