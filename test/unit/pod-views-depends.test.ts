// What ps says of a pod held by the pods it depends on (`berth.dev/depends-on`): how they stand
// when ps is asked (the containers there are, the prober's findings now), never the text of the
// pass that found it waiting: the daemon looks again only when a gate flips (started, ready, an
// exit), so a probe whose message changed since, or a dependency that ended, would be told stale.
import { describe, expect, it } from 'vitest';
import type { HealthFile } from '../../src/health/health-file.js';
import type { LoadedDoc } from '../../src/manifest/kinds.js';
import { desiredState } from '../../src/reconcile/desired.js';
import { ANNOTATION, type ObservedContainer, plan } from '../../src/reconcile/plan.js';
import { type ObservedRecord, podViews } from '../../src/reconcile/pod-views.js';
import { canonicalSpec, specHash } from '../../src/reconcile/spec-hash.js';
import { buildStatus } from '../../src/reconcile/status.js';
import { TEST_DIGEST, TEST_HOST } from '../helpers/observed.js';

const IMG = 'registry.lan/app:1';
const NOW = Date.parse('2026-12-03T12:00:00Z');

function pod(name: string, spec: Record<string, unknown>, on?: string): LoadedDoc {
  return {
    file: `/m/${name}.yaml`,
    line: 1,
    doc: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, ...(on ? { annotations: { 'berth.dev/depends-on': on } } : {}) },
      spec: { containers: [{ name: 'main', image: IMG }], ...spec },
    } as LoadedDoc['doc'],
  };
}

const docs = [
  pod('db', { containers: [{ name: 'main', image: IMG, readinessProbe: { exec: { command: ['true'] } } }] }),
  pod('job', { restartPolicy: 'Never' }),
  pod('web', {}, 'db, job:completed'),
];
const desired = desiredState(docs, TEST_HOST);

/** db/main or job/main as berth made it: running, or exited with `exitCode`. */
function made(name: string, exitCode?: number): ObservedContainer {
  const c = desired.pods.find((p) => p.name === name)?.containers[0];
  const spec = canonicalSpec(c as NonNullable<typeof c>, TEST_DIGEST);
  return {
    id: `${name}-main-1`,
    name: `${name}_main`,
    state: exitCode === undefined ? 'running' : 'exited',
    exitCode: exitCode ?? null,
    startedAt: '2026-12-03T11:00:00Z',
    finishedAt: exitCode === undefined ? null : '2026-12-03T11:30:00Z',
    annotations: {
      [ANNOTATION.owner]: 'manifests',
      [ANNOTATION.pod]: name,
      [ANNOTATION.container]: 'main',
      [ANNOTATION.hash]: specHash(spec),
      [ANNOTATION.spec]: JSON.stringify(spec),
    },
  };
}

const asRecord = (o: ObservedContainer): ObservedRecord =>
  ({
    record: { id: o.id, name: o.name, annotations: o.annotations },
    status: {
      id: o.id,
      name: o.name,
      state: o.state,
      pid: o.state === 'running' ? 42 : null,
      exitCode: o.exitCode,
    },
  }) as unknown as ObservedRecord;

const health = (ready: boolean, message?: string): HealthFile => ({
  pid: 1,
  containers: {
    db_main: {
      id: 'db-main-1',
      started: true,
      ready,
      ...(message
        ? { lastProbe: { probe: 'readiness', ok: ready, message, at: '2026-12-03T11:59:59Z' } }
        : {}),
    },
  },
});

/** What ps says of web: the pass saw `then`, ps sees `now`. */
function waiting(then: { containers: ObservedContainer[]; health?: HealthFile }, now: typeof then) {
  const actions = plan({
    folder: '/m',
    desired,
    observed: {
      images: new Map([[IMG, TEST_DIGEST]]),
      containers: then.containers,
      sandboxes: new Map(),
      ...(then.health ? { health: then.health } : {}),
    },
    frozen: new Map(),
    now: NOW,
  });
  const status = buildStatus('/m', desired, new Map(), actions, {});
  return podViews(now.containers.map(asRecord), status, new Map(), now.health).find((p) => p.name === 'web')
    ?.waiting;
}

describe('ps: a pod held by the pods it depends on', () => {
  it('says how they stand as the prober finds them now, not as the pass did', () => {
    const running = [made('db'), made('job')];
    const then = { containers: running, health: health(false) };
    expect(waiting(then, then)).toBe(
      'web: waiting for db to be ready: not ready and job to have completed: running',
    );
    expect(waiting(then, { containers: running, health: health(false, 'HTTP 503') })).toBe(
      'web: waiting for db to be ready: not ready: readiness probe failed: HTTP 503 and job to have completed: running',
    );
    // job ended since: under Never an exit 3 is never a completion.
    expect(waiting(then, { containers: [made('db'), made('job', 3)], health: health(false) })).toBe(
      'web: waiting for db to be ready: not ready and job to have completed: exited 3, restart policy Never: it will not complete',
    );
  });

  it('says nothing of those that hold now (the next pass starts it), and all once none holds it', () => {
    const then = { containers: [made('db'), made('job')], health: health(false) };
    expect(
      waiting(then, { containers: [made('db'), made('job')], health: health(true, 'exit code 0') }),
    ).toBe('web: waiting for job to have completed: running');
    expect(waiting(then, { containers: [made('db'), made('job', 0)], health: health(true) })).toBeNull();
  });
});
