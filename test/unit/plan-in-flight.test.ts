// The planner's in-flight input: a pod or a pull whose task from an earlier pass is still in
// progress is a wait saying what it does, and the rest of the host is planned as usual. Whole plans.
// And the executor's text for a start whose postStart hook runs in the same task.
import { describe, expect, it } from 'vitest';
import type { LoadedDoc } from '../../src/manifest/kinds.js';
import { type DesiredState, desiredState } from '../../src/reconcile/desired.js';
import { createExecutor } from '../../src/reconcile/execute.js';
import {
  type Action,
  ANNOTATION,
  type ObservedContainer,
  OWNER_MANIFESTS,
  plan,
} from '../../src/reconcile/plan.js';
import { canonicalSpec, specHash } from '../../src/reconcile/spec-hash.js';
import { createTasks } from '../../src/reconcile/tasks.js';
import type { RuntimeDeps } from '../../src/runtime/containers.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
const HAVE = 'registry.lan/app:1';
const SLOW = 'registry.lan/big:1';
const DIGEST = 'sha256:aaa';
const NOW = Date.parse('2026-11-22T12:00:00Z');

function pod(name: string, image: string): LoadedDoc {
  return {
    file: `/m/${name}.yaml`,
    line: 1,
    doc: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { terminationGracePeriodSeconds: 3600, containers: [{ name: 'main', image }] },
    },
  };
}

function observedOf(d: DesiredState, name: string, over: Partial<ObservedContainer> = {}): ObservedContainer {
  const c = d.pods.find((p) => p.name === name)?.containers[0];
  const spec = canonicalSpec(c as NonNullable<typeof c>, DIGEST);
  return {
    id: `${name}-id`,
    name: `${name}_main`,
    state: 'running',
    exitCode: null,
    startedAt: '2026-11-22T11:00:00Z',
    finishedAt: null,
    annotations: {
      [ANNOTATION.owner]: OWNER_MANIFESTS,
      [ANNOTATION.pod]: name,
      [ANNOTATION.container]: 'main',
      [ANNOTATION.hash]: specHash(spec),
      [ANNOTATION.spec]: JSON.stringify(spec),
      [ANNOTATION.grace]: '3600',
    },
    ...over,
  };
}

describe('plan with tasks in flight', () => {
  // a: its task pulls SLOW; b: crashed, its back-off over; c: new, needs SLOW too; old: removed
  // from the manifests and still stopping; gone: removed, nothing in progress.
  const desired = desiredState([pod('a', SLOW), pod('b', HAVE), pod('c', SLOW)], host);
  const everything = desiredState([pod('old', HAVE), pod('gone', HAVE)], host);
  const observed = {
    images: new Map([[HAVE, DIGEST]]),
    containers: [
      observedOf(desired, 'b', {
        state: 'exited',
        exitCode: 137,
        startedAt: '2026-11-22T11:00:00Z',
        finishedAt: '2026-11-22T11:59:40Z',
      }),
      observedOf(everything, 'old'),
      observedOf(everything, 'gone'),
    ],
    sandboxes: new Map(
      ['a', 'b', 'old', 'gone'].map((n) => [
        n,
        { netns: true, network: { state: 'ready' as const, ports: [] }, volumes: {}, source: `/m/${n}.yaml` },
      ]),
    ),
  };

  it('a pod pulling or stopping is a wait; a crash elsewhere restarts; a pod needing the same pull waits for it', () => {
    const inFlight = new Map([
      ['pod/a', `pulling ${SLOW}`],
      [`image/${SLOW}`, 'being pulled (a/main)'],
      ['pod/old', 'stopping old/main (grace 3600 s)'],
    ]);
    expect(plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW, inFlight })).toEqual([
      { kind: 'wait', pod: '', reason: `${SLOW}: being pulled (a/main)` },
      {
        kind: 'remove',
        pod: 'gone',
        container: 'main',
        id: 'gone-id',
        graceSeconds: 3600,
        reason: 'gone/main: no longer in the manifests',
        turn: 0,
      },
      { kind: 'teardown-pod', pod: 'gone', reason: 'gone: no longer in the manifests' },
      { kind: 'wait', pod: 'old', reason: 'old: stopping old/main (grace 3600 s)' },
      { kind: 'wait', pod: 'a', reason: `a: pulling ${SLOW}` },
      {
        kind: 'run',
        pod: 'b',
        container: 'main',
        replace: 'b-id',
        restarts: 1,
        backoffMs: 10_000,
        waitForExit: false,
        reason: 'b/main: exited 137, restart policy Always, restart 1 after 10 s',
      },
      { kind: 'wait', pod: 'c', reason: `c: waiting for image ${SLOW}` },
    ]);
  });

  it('without tasks in flight the same host is planned from scratch (pull, then every pod)', () => {
    expect(
      plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW, inFlight: new Map() }),
    ).toEqual([
      {
        kind: 'pull',
        image: SLOW,
        for: ['a/main', 'c/main'],
        reason: `${SLOW}: not in the store (a/main, c/main)`,
      },
      {
        kind: 'remove',
        pod: 'gone',
        container: 'main',
        id: 'gone-id',
        graceSeconds: 3600,
        reason: 'gone/main: no longer in the manifests',
        turn: 0,
      },
      { kind: 'teardown-pod', pod: 'gone', reason: 'gone: no longer in the manifests' },
      {
        kind: 'remove',
        pod: 'old',
        container: 'main',
        id: 'old-id',
        graceSeconds: 3600,
        reason: 'old/main: no longer in the manifests',
        turn: 0,
      },
      { kind: 'teardown-pod', pod: 'old', reason: 'old: no longer in the manifests' },
      {
        kind: 'run',
        pod: 'a',
        container: 'main',
        restarts: 0,
        backoffMs: 0,
        waitForExit: false,
        reason: 'a/main: new container',
      },
      {
        kind: 'run',
        pod: 'b',
        container: 'main',
        replace: 'b-id',
        restarts: 1,
        backoffMs: 10_000,
        waitForExit: false,
        reason: 'b/main: exited 137, restart policy Always, restart 1 after 10 s',
      },
      { kind: 'setup-pod', pod: 'c', reason: 'c: new pod (network namespace, volumes)' },
      {
        kind: 'run',
        pod: 'c',
        container: 'main',
        restarts: 0,
        backoffMs: 0,
        waitForExit: false,
        reason: 'c/main: new container',
      },
    ]);
  });
});

describe('a start in flight, as the executor tells it', () => {
  it('a container with a postStart hook is a wait `starting web/main (then its postStart hook)` until its task ends', async () => {
    const hooked = pod('web', HAVE);
    const spec = (hooked.doc as unknown as { spec: { containers: Array<Record<string, unknown>> } }).spec;
    (spec.containers[0] as Record<string, unknown>).lifecycle = {
      postStart: { exec: { command: ['true'] } },
    };
    const desired = desiredState([hooked, pod('plain', HAVE)], host);
    const tasks = createTasks();
    // The runtime is never reached while the texts are read; the tasks fail on it afterwards.
    const executor = createExecutor({ rt: {} as RuntimeDeps, host, pull: async () => {} }, tasks);
    const run = (name: string): Action => ({
      kind: 'run',
      pod: name,
      container: 'main',
      restarts: 0,
      backoffMs: 0,
      waitForExit: false,
      reason: `${name}/main: new container`,
    });
    expect(executor.start([run('web'), run('plain')], desired)).toEqual(['pod/web', 'pod/plain']);
    const inFlight = tasks.inFlight();
    expect([...inFlight]).toEqual([
      ['pod/web', 'starting web/main (then its postStart hook)'],
      ['pod/plain', 'starting plain/main'],
    ]);
    const observed = { images: new Map([[HAVE, DIGEST]]), containers: [], sandboxes: new Map() };
    expect(plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW, inFlight })).toEqual([
      { kind: 'wait', pod: 'plain', reason: 'plain: starting plain/main' },
      { kind: 'wait', pod: 'web', reason: 'web: starting web/main (then its postStart hook)' },
    ]);
    for (const key of ['pod/web', 'pod/plain']) await tasks.join(key);
    expect(tasks.inFlight().size).toBe(0);
  });
});
