// The planner, table-driven: each case asserts the whole plan.
import { describe, expect, it } from 'vitest';
import type { HealthFile } from '../../src/health/health-file.js';
import type { LoadedDoc, PodManifest } from '../../src/manifest/kinds.js';
import { type DesiredPod, type DesiredState, desiredState } from '../../src/reconcile/desired.js';
import { type Failures, podFingerprint } from '../../src/reconcile/failures.js';
import {
  ANNOTATION,
  type ObservedContainer,
  OWNER_MANIFESTS,
  plan,
  podsOfOtherFolders,
} from '../../src/reconcile/plan.js';
import type { ObservedSandbox } from '../../src/reconcile/sandbox.js';
import { canonicalSpec, specHash } from '../../src/reconcile/spec-hash.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
const IMG = 'registry.lan/app:1';
const DIGEST = 'sha256:aaa';
const NOW = Date.parse('2026-11-22T12:00:00Z');

function pod(
  name: string,
  extra: Partial<PodManifest['spec']> = {},
  annotations?: Record<string, string>,
): LoadedDoc {
  return {
    file: `/m/${name}.yaml`,
    line: 1,
    doc: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, ...(annotations ? { annotations } : {}) },
      spec: { containers: [{ name: 'main', image: IMG, env: [{ name: 'MODE', value: 'a' }] }], ...extra },
    },
  };
}

/** An observed container that matches `desired`'s pod/container exactly (unless overridden). */
function running(
  d: DesiredState,
  podName: string,
  container = 'main',
  over: Partial<ObservedContainer> = {},
): ObservedContainer {
  const p = d.pods.find((x) => x.name === podName);
  const c = [...(p?.initContainers ?? []), ...(p?.containers ?? [])].find((x) => x.name === container);
  const spec = canonicalSpec(c as NonNullable<typeof c>, DIGEST);
  return {
    id: `${podName}-${container}-id`,
    name: `${podName}_${container}`,
    state: 'running',
    exitCode: null,
    startedAt: '2026-11-22T11:00:00Z',
    finishedAt: null,
    annotations: {
      [ANNOTATION.owner]: OWNER_MANIFESTS,
      [ANNOTATION.pod]: podName,
      [ANNOTATION.container]: container,
      [ANNOTATION.source]: `/m/${podName}.yaml`,
      [ANNOTATION.hash]: specHash(spec),
      [ANNOTATION.spec]: JSON.stringify(spec),
    },
    ...over,
  };
}

/** Whole sandboxes (netns mounted, no emptyDirs) of pods from `/m`, as setUpPod leaves them. */
function setUp(...names: string[]): Map<string, ObservedSandbox> {
  return new Map(
    names.map((n) => [
      n,
      { netns: true, network: { state: 'ready' as const, ports: [] }, volumes: {}, source: `/m/${n}.yaml` },
    ]),
  );
}

const images = new Map([[IMG, DIGEST]]);
const summary = (actions: ReturnType<typeof plan>) => actions.map((a) => `${a.kind} ${a.reason}`);
/** The summary of a plan for pod `app`'s containers on a whole sandbox. */
const planApp = (desired: DesiredState, containers: ObservedContainer[]) =>
  summary(
    plan({
      folder: '/m',
      desired,
      observed: { images, containers, sandboxes: setUp('app') },
      frozen: new Map(),
      now: NOW,
    }),
  );

describe('plan', () => {
  it('a new pod on an empty host: pull first, then the pod, then its container', () => {
    const desired = desiredState([pod('web')], host);
    const actions = plan({
      folder: '/m',
      desired,
      observed: { images: new Map(), containers: [], sandboxes: setUp() },
      frozen: new Map(),
      now: NOW,
    });
    expect(summary(actions)).toEqual([
      `pull ${IMG}: not in the store (web/main)`,
      'setup-pod web: new pod (network namespace, volumes)',
      'run web/main: new container',
    ]);
  });

  it('an image name index.json gives to entries of two digests is pulled again (which names it once), its running container kept', () => {
    const desired = desiredState([pod('web')], host);
    const observed = { images: new Map(), ambiguousImages: new Set([IMG]), sandboxes: setUp('web') };
    const actions = plan({
      folder: '/m',
      desired,
      observed: { ...observed, containers: [running(desired, 'web')] },
      frozen: new Map(),
      now: NOW,
    });
    expect(summary(actions)).toEqual([
      `pull ${IMG}: given to entries of different digests in the store's index.json (web/main)`,
    ]);
  });

  it('nothing to do when what runs matches', () => {
    const desired = desiredState([pod('web')], host);
    const observed = { images, containers: [running(desired, 'web')], sandboxes: setUp('web') };
    expect(plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW })).toEqual([]);
  });

  it('an env edit recreates exactly that container, saying what changed', () => {
    const before = desiredState([pod('web'), pod('db')], host);
    const edited = pod('web');
    (edited.doc as PodManifest).spec.containers[0]!.env = [
      { name: 'MODE', value: 'b' },
      { name: 'NEW', value: '1' },
    ];
    const desired = desiredState([edited, pod('db')], host);
    const observed = {
      images,
      containers: [running(before, 'web'), running(before, 'db')],
      sandboxes: setUp('web', 'db'),
    };
    expect(summary(plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW }))).toEqual([
      'remove web/main: env MODE changed, env NEW added',
      'run web/main: env MODE changed, env NEW added',
    ]);
  });

  it('an exited container waits out its back-off, then comes back with the count and the next delay', () => {
    const desired = desiredState([pod('web')], host);
    const exited = running(desired, 'web', 'main', {
      state: 'exited',
      exitCode: 1,
      startedAt: '2026-11-22T11:59:50Z',
      finishedAt: '2026-11-22T11:59:55Z',
    });
    exited.annotations[ANNOTATION.backoff] = '20000';
    exited.annotations[ANNOTATION.restarts] = '2';
    const observed = { images, containers: [exited], sandboxes: setUp('web') };
    expect(summary(plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW }))).toEqual([
      'wait web/main: exited 1, restart policy Always, back-off 40 s',
    ]);
    const later = plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW + 40_000 });
    expect(later).toEqual([
      {
        kind: 'run',
        pod: 'web',
        container: 'main',
        replace: 'web-main-id',
        restarts: 3,
        backoffMs: 40_000,
        waitForExit: false,
        reason: 'web/main: exited 1, restart policy Always, restart 3 after 40 s',
      },
    ]);
  });

  it('an exit recorded ahead of the clock (the clock went back since: NTP fixed a clock that ran years ahead) ends the back-off now, not years later', () => {
    const desired = desiredState([pod('web')], host);
    const exited = running(desired, 'web', 'main', {
      state: 'exited',
      exitCode: 1,
      startedAt: '2031-05-01T09:59:50Z',
      finishedAt: '2031-05-01T10:00:00Z',
    });
    exited.annotations[ANNOTATION.backoff] = '20000';
    exited.annotations[ANNOTATION.restarts] = '2';
    const observed = { images, containers: [exited], sandboxes: setUp('web') };
    expect(summary(plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW }))).toEqual([
      'run web/main: exited 1, restart policy Always, restart 3 after 40 s',
    ]);
  });

  it('restart policies: OnFailure leaves a clean exit alone, Never leaves every exit', () => {
    for (const [policy, code, want] of [
      ['OnFailure', 0, 0],
      ['OnFailure', 2, 1],
      ['Never', 2, 0],
    ] as const) {
      const desired = desiredState([pod('job', { restartPolicy: policy })], host);
      const o = running(desired, 'job', 'main', {
        state: 'exited',
        exitCode: code,
        finishedAt: '2026-11-22T11:00:00Z',
      });
      expect(
        plan({
          folder: '/m',
          desired,
          observed: { images, containers: [o], sandboxes: setUp('job') },
          frozen: new Map(),
          now: NOW,
        }),
      ).toHaveLength(want);
    }
  });

  it('a pod gone from the manifests is removed; containers made by hand are never touched', () => {
    const before = desiredState([pod('old')], host);
    const byHand: ObservedContainer = {
      ...running(before, 'old'),
      id: 'hand',
      name: 'mine',
      annotations: {},
    };
    const observed = { images, containers: [running(before, 'old'), byHand], sandboxes: setUp('old') };
    expect(
      summary(
        plan({ folder: '/m', desired: { pods: [], images: [] }, observed, frozen: new Map(), now: NOW }),
      ),
    ).toEqual([
      'remove old/main: no longer in the manifests',
      'teardown-pod old: no longer in the manifests',
    ]);
  });

  it('a pod whose file is broken is kept exactly as it runs', () => {
    const before = desiredState([pod('web')], host);
    const observed = { images, containers: [running(before, 'web')], sandboxes: setUp('web') };
    const frozen = new Map([['web', '/m/web.yaml has errors']]);
    expect(
      summary(plan({ folder: '/m', desired: { pods: [], images: [] }, observed, frozen, now: NOW })),
    ).toEqual(['wait web: kept as it runs (/m/web.yaml has errors)']);
  });

  it('init containers run to completion, in order, before the containers', () => {
    const withInit = pod('app', {
      initContainers: [
        { name: 'migrate', image: IMG },
        { name: 'seed', image: IMG },
      ],
    });
    const desired = desiredState([withInit], host);
    const none = plan({
      folder: '/m',
      desired,
      observed: { images, containers: [], sandboxes: setUp('app') },
      frozen: new Map(),
      now: NOW,
    });
    expect(summary(none)).toEqual(['run app/migrate: init container']);
    expect(none[0]).toMatchObject({ waitForExit: true });
    const migrated = running(desired, 'app', 'migrate', {
      state: 'exited',
      exitCode: 0,
      finishedAt: '2026-11-22T11:00:00Z',
    });
    expect(
      summary(
        plan({
          folder: '/m',
          desired,
          observed: { images, containers: [migrated], sandboxes: setUp('app') },
          frozen: new Map(),
          now: NOW,
        }),
      ),
    ).toEqual(['run app/seed: init container']);
    const seeded = running(desired, 'app', 'seed', {
      state: 'exited',
      exitCode: 0,
      finishedAt: '2026-11-22T11:00:00Z',
    });
    expect(
      summary(
        plan({
          folder: '/m',
          desired,
          observed: { images, containers: [migrated, seeded], sandboxes: setUp('app') },
          frozen: new Map(),
          now: NOW,
        }),
      ),
    ).toEqual(['run app/main: new container']);
  });

  it('an init container that failed: under Never the pod has failed and its sidecar stops; an edit runs the pod again; OnFailure retries it', () => {
    const spec = (restartPolicy: 'Never' | 'OnFailure', cmd = 'exit 3') => ({
      restartPolicy,
      initContainers: [
        { name: 'side', image: IMG, restartPolicy: 'Always' as const },
        { name: 'setup', image: IMG, command: ['sh', '-c', cmd] },
      ],
    });
    const planFor = (desired: DesiredState, failedSpec: DesiredState, failures: Failures = {}) =>
      plan({
        folder: '/m',
        desired,
        failures,
        observed: {
          images,
          containers: [
            running(failedSpec, 'app', 'side'),
            running(failedSpec, 'app', 'setup', {
              state: 'exited',
              exitCode: 3,
              finishedAt: '2026-11-22T11:00:00Z',
            }),
          ],
          sandboxes: setUp('app'),
        },
        frozen: new Map(),
        now: NOW,
      });
    const never = desiredState([pod('app', spec('Never'))], host);
    expect(planFor(never, never)).toEqual([
      {
        kind: 'remove',
        pod: 'app',
        container: 'side',
        id: 'app-side-id',
        graceSeconds: 30,
        reason: 'app/side: setup failed under restartPolicy Never, the sidecar stops',
      },
    ]);
    // Its failure (ERR_INIT_FAILED) holds nothing back: nothing is tried again, the sidecar stops now.
    const failure = {
      container: 'setup',
      attempts: 1,
      error: 'ERR_INIT_FAILED: init container app_setup exited 3',
      at: NOW,
      retryAt: NOW + 10_000,
      fingerprint: podFingerprint(never.pods[0] as DesiredPod),
    };
    expect(planFor(never, never, { 'pod/app': failure }).map((a) => a.kind)).toEqual(['remove']);
    const edited = desiredState([pod('app', spec('Never', 'exit 0'))], host);
    // An edit makes a new pod, as the kubelet runs a changed static pod: it starts over from its first
    // init container (pod-restart.ts).
    expect(summary(planFor(edited, never))).toEqual([
      'restart-pod app: init container setup changed (entrypoint changed): its 2 containers stop (grace 30 s), then it starts again from its init containers',
    ]);
    const onFailure = desiredState([pod('app', spec('OnFailure'))], host);
    expect(summary(planFor(onFailure, onFailure))).toEqual([
      'run app/setup: exited 3, restart policy OnFailure, restart 1 after 10 s',
    ]);
  });

  it('an init container changed while a later one runs: the later one stops, and runs again after it', () => {
    const spec = (cmd: string) => ({
      initContainers: [
        { name: 'first', image: IMG, command: ['sh', '-c', cmd] },
        { name: 'second', image: IMG, command: ['sleep', '60'] },
      ],
    });
    const before = desiredState([pod('app', spec('exit 0'))], host);
    const after = desiredState([pod('app', spec('true'))], host);
    const observed = [
      running(before, 'app', 'first', { state: 'exited', exitCode: 0, finishedAt: '2026-11-22T11:00:00Z' }),
      running(before, 'app', 'second'),
    ];
    const plans = (desired: DesiredState) =>
      summary(
        plan({
          folder: '/m',
          desired,
          observed: { images, containers: observed, sandboxes: setUp('app') },
          frozen: new Map(),
          now: NOW,
        }),
      );
    expect(plans(before)).toEqual(['wait app/second: running']);
    expect(plans(after)).toEqual([
      'remove app/second: first is made again (changed): it runs again after it',
      'remove app/first: entrypoint changed',
      'run app/first: entrypoint changed',
    ]);
  });

  it('an init container changed while the app containers run: the whole pod stops in one action, to start again from its init containers', () => {
    const spec = (cmd: string, image = IMG) => ({
      terminationGracePeriodSeconds: 7,
      initContainers: [
        { name: 'side', image: IMG, restartPolicy: 'Always' as const },
        { name: 'setup', image, command: ['sh', '-c', cmd] },
      ],
    });
    const before = desiredState([pod('app', spec('exit 0'))], host);
    const observed = [
      running(before, 'app', 'side', { startedAt: '2026-11-22T11:00:00Z' }),
      running(before, 'app', 'setup', {
        state: 'exited',
        exitCode: 0,
        startedAt: '2026-11-22T11:00:01Z',
        finishedAt: '2026-11-22T11:00:01Z',
      }),
      running(before, 'app', 'main', { startedAt: '2026-11-22T11:00:02Z' }),
    ];
    const plans = (desired: DesiredState, seen = images) =>
      plan({
        folder: '/m',
        desired,
        observed: { images: seen, containers: observed, sandboxes: setUp('app') },
        frozen: new Map(),
        now: NOW,
      });
    expect(plans(before)).toEqual([]);
    expect(plans(desiredState([pod('app', spec('true'))], host))).toEqual([
      {
        kind: 'restart-pod',
        pod: 'app',
        containers: [
          { container: 'main', id: 'app-main-id', turn: 0 },
          { container: 'setup', id: 'app-setup-id', turn: 1 },
          { container: 'side', id: 'app-side-id', turn: 2 },
        ],
        graceSeconds: 7,
        reason:
          'app: init container setup changed (entrypoint changed): its 3 containers stop (grace 7 s), then it starts again from its init containers',
      },
    ]);
    // A new image for it is pulled first: nothing stops before the pod can start again.
    const moved = desiredState([pod('app', spec('exit 0', 'registry.lan/setup:2'))], host);
    expect(summary(plans(moved))).toEqual(['pull registry.lan/setup:2: not in the store (app/setup)']);
    expect(summary(plans(moved, new Map([...images, ['registry.lan/setup:2', 'sha256:bbb']])))).toEqual([
      'restart-pod app: init container setup changed (image registry.lan/app:1 → registry.lan/setup:2): its 3 containers stop (grace 7 s), then it starts again from its init containers',
    ]);
  });

  it('a changed container is stopped within the grace period it was made with, not the new one', () => {
    const before = desiredState([pod('app', { terminationGracePeriodSeconds: 3600 })], host);
    const after = desiredState(
      [pod('app', { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: IMG }] })],
      host,
    );
    const o = running(before, 'app', 'main', {
      annotations: { ...running(before, 'app').annotations, [ANNOTATION.grace]: '3600' },
    });
    const actions = plan({
      folder: '/m',
      desired: after,
      observed: { images, containers: [o], sandboxes: setUp('app') },
      frozen: new Map(),
      now: NOW,
    });
    expect(actions.map((a) => [a.kind, a.kind === 'remove' ? a.graceSeconds : undefined])).toEqual([
      ['remove', 3600],
      ['run', undefined],
    ]);
  });

  it('an init container added: while an app container runs the pod starts again; once all have exited it runs first', () => {
    const before = desiredState([pod('app', { terminationGracePeriodSeconds: 7 })], host);
    const after = desiredState(
      [pod('app', { terminationGracePeriodSeconds: 7, initContainers: [{ name: 'setup', image: IMG }] })],
      host,
    );
    const plans = (observed: ObservedContainer[]) =>
      plan({
        folder: '/m',
        desired: after,
        observed: { images, containers: observed, sandboxes: setUp('app') },
        frozen: new Map(),
        now: NOW,
      });
    expect(plans([running(before, 'app')])).toEqual([
      {
        kind: 'restart-pod',
        pod: 'app',
        containers: [{ container: 'main', id: 'app-main-id', turn: 0 }],
        graceSeconds: 7,
        reason:
          'app: init container setup added: its container stops (grace 7 s), then it starts again from its init containers',
      },
    ]);
    // Every app container has exited (a new sandbox keeps those that finished): nothing stops, the
    // init container runs first.
    const exited = running(before, 'app', 'main', {
      state: 'exited',
      exitCode: 0,
      finishedAt: '2026-11-22T11:30:00Z',
    });
    expect(summary(plans([exited]))).toEqual(['run app/setup: init container']);
  });

  it('an init container removed: while an app container runs the pod starts again; once all have exited it goes alone; a sidecar goes alone', () => {
    const spec = (inits: Array<{ name: string; restartPolicy?: 'Always' }>) => ({
      terminationGracePeriodSeconds: 7,
      initContainers: inits.map((c) => ({ ...c, image: IMG })),
    });
    const before = desiredState(
      [pod('app', spec([{ name: 'side', restartPolicy: 'Always' }, { name: 'setup' }]))],
      host,
    );
    const plans = (desired: DesiredState, observed: ObservedContainer[]) =>
      plan({
        folder: '/m',
        desired,
        observed: { images, containers: observed, sandboxes: setUp('app') },
        frozen: new Map(),
        now: NOW,
      });
    const side = running(before, 'app', 'side', {
      startedAt: '2026-11-22T11:00:00Z',
      annotations: { ...running(before, 'app', 'side').annotations, [ANNOTATION.sidecar]: 'true' },
    });
    const setup = running(before, 'app', 'setup', {
      state: 'exited',
      exitCode: 0,
      startedAt: '2026-11-22T11:00:01Z',
      finishedAt: '2026-11-22T11:00:01Z',
    });
    const main = running(before, 'app', 'main', { startedAt: '2026-11-22T11:00:02Z' });
    const noSetup = desiredState([pod('app', spec([{ name: 'side', restartPolicy: 'Always' }]))], host);
    expect(plans(noSetup, [side, setup, main])).toEqual([
      {
        kind: 'restart-pod',
        pod: 'app',
        containers: [
          { container: 'main', id: 'app-main-id', turn: 0 },
          { container: 'setup', id: 'app-setup-id', turn: 1 },
          { container: 'side', id: 'app-side-id', turn: 2 },
        ],
        graceSeconds: 7,
        reason:
          'app: init container setup removed: its 3 containers stop (grace 7 s), then it starts again from its init containers',
      },
    ]);
    // A sidecar removed goes alone, running or in its back-off, as a changed one is made again alone.
    const noSide = desiredState([pod('app', spec([{ name: 'setup' }]))], host);
    expect(summary(plans(noSide, [side, setup, main]))).toEqual(['remove app/side: no longer in the pod']);
    const crashed = { ...side, state: 'exited' as const, exitCode: 0, finishedAt: '2026-11-22T11:59:59Z' };
    expect(summary(plans(noSide, [crashed, setup, main]))).toEqual(['remove app/side: no longer in the pod']);
    // A sidecar made before sidecars were marked, in its back-off, still in the spec: nothing removed.
    const { [ANNOTATION.sidecar]: _, ...unmarked } = crashed.annotations;
    expect(summary(plans(before, [{ ...crashed, annotations: unmarked }, setup, main]))).toEqual([
      'wait app/side: exited 0, restart policy Always, back-off 10 s',
    ]);
    // Every app container has exited and is restarted after its back-off: the init container goes
    // alone, the app containers start again without it.
    const exited = { ...main, state: 'exited' as const, exitCode: 1, finishedAt: '2026-11-22T11:59:59Z' };
    expect(summary(plans(noSetup, [side, setup, exited]))).toEqual([
      'remove app/setup: no longer in the pod',
      'wait app/main: exited 1, restart policy Always, back-off 10 s',
    ]);
  });

  it('a pod that has finished for good (Succeeded or Failed) whose init containers change runs again from its first init container', () => {
    const spec = (restartPolicy: 'Never' | 'OnFailure', inits: string[], cmd = 'exit 0') => ({
      restartPolicy,
      initContainers: inits.map((name) => ({ name, image: IMG, command: ['sh', '-c', cmd] })),
    });
    const plans = (desired: DesiredState, observed: ObservedContainer[]) =>
      plan({
        folder: '/m',
        desired,
        observed: { images, containers: observed, sandboxes: setUp('app') },
        frozen: new Map(),
        now: NOW,
      });
    const ended = (d: DesiredState, name: string, exitCode: number, at: string) =>
      running(d, 'app', name, { state: 'exited', exitCode, startedAt: at, finishedAt: at });
    const before = desiredState([pod('app', spec('Never', ['first']))], host);
    const succeeded = [
      ended(before, 'first', 0, '2026-11-22T11:00:00Z'),
      ended(before, 'main', 0, '2026-11-22T11:00:01Z'),
    ];
    expect(plans(before, succeeded)).toEqual([]);
    // Added: it and the app container run again, not it alone.
    expect(plans(desiredState([pod('app', spec('Never', ['first', 'setup']))], host), succeeded)).toEqual([
      {
        kind: 'restart-pod',
        pod: 'app',
        containers: [
          { container: 'main', id: 'app-main-id', turn: 0 },
          { container: 'first', id: 'app-first-id', turn: 1 },
        ],
        graceSeconds: 30,
        reason:
          'app: init container setup added: it has finished: its 2 containers are removed, then it runs again from its init containers',
      },
    ]);
    // Removed, in a pod that failed (an app container exited 1 under Never), or finished under OnFailure.
    const failed = [
      ended(before, 'first', 0, '2026-11-22T11:00:00Z'),
      ended(before, 'main', 1, '2026-11-22T11:00:01Z'),
    ];
    expect(summary(plans(desiredState([pod('app', spec('Never', []))], host), failed))).toEqual([
      // It has none left: it runs again from its app container.
      'restart-pod app: init container first removed: it has finished: its 2 containers are removed, then it runs again',
    ]);
    const done = desiredState([pod('app', spec('OnFailure', ['first']))], host);
    expect(
      summary(
        plans(desiredState([pod('app', spec('OnFailure', ['zero', 'first']))], host), [
          ended(done, 'first', 0, '2026-11-22T11:00:00Z'),
          ended(done, 'main', 0, '2026-11-22T11:00:01Z'),
        ]),
      ),
    ).toEqual([
      'restart-pod app: init container zero added: it has finished: its 2 containers are removed, then it runs again from its init containers',
    ]);
    // Failed at an init container under Never: an init container added before it runs the pod again
    // (the failed one unchanged), from the first.
    const stuck = desiredState([pod('app', spec('Never', ['first', 'setup'], 'exit 3'))], host);
    const initFailed = [
      ended(stuck, 'first', 0, '2026-11-22T11:00:00Z'),
      ended(stuck, 'setup', 3, '2026-11-22T11:00:01Z'),
    ];
    expect(plans(stuck, initFailed)).toEqual([]);
    const grown = desiredState(
      [
        pod('app', {
          restartPolicy: 'Never',
          initContainers: [
            { name: 'zero', image: IMG },
            ...(stuck.pods[0]?.initContainers ?? []).map((c) => ({
              name: c.name,
              image: IMG,
              command: ['sh', '-c', 'exit 3'],
            })),
          ],
        }),
      ],
      host,
    );
    expect(summary(plans(grown, initFailed))).toEqual([
      'restart-pod app: init container zero added: it has finished: its 2 containers are removed, then it runs again from its init containers',
    ]);
  });

  it('a pod that has finished for good whose app container changes runs again whole, sidecar or not', () => {
    const spec = (mode: string, sidecar: boolean) => ({
      restartPolicy: 'Never' as const,
      initContainers: [
        { name: 'setup', image: IMG, command: ['sh', '-c', 'exit 0'] },
        ...(sidecar ? [{ name: 'side', image: IMG, restartPolicy: 'Always' as const }] : []),
      ],
      containers: [{ name: 'main', image: IMG, env: [{ name: 'MODE', value: mode }] }],
    });
    const plans = planApp;
    for (const sidecar of [true, false]) {
      const before = desiredState([pod('app', spec('a', sidecar))], host);
      const at = '2026-11-22T11:00:00Z';
      const ended = (name: string) =>
        running(before, 'app', name, { state: 'exited', exitCode: 0, startedAt: at, finishedAt: at });
      const sideMark = { [ANNOTATION.sidecar]: 'true' };
      const succeeded = [
        ended('setup'),
        ...(sidecar
          ? [{ ...ended('side'), annotations: { ...ended('side').annotations, ...sideMark } }]
          : []),
        ended('main'),
      ];
      expect(plans(before, succeeded)).toEqual([]);
      const n = succeeded.length;
      expect(plans(desiredState([pod('app', spec('b', sidecar))], host), succeeded)).toEqual([
        `restart-pod app: container main changed (env MODE changed): it has finished: its ${n} containers are removed, then it runs again from its init containers`,
      ]);
    }
    // No init containers, two app containers: one changed runs both again; one removed, the other.
    const two = (mode: string) => ({
      restartPolicy: 'Never' as const,
      containers: [
        { name: 'main', image: IMG, env: [{ name: 'MODE', value: mode }] },
        { name: 'other', image: IMG },
      ],
    });
    const pair = desiredState([pod('app', two('a'))], host);
    const at = '2026-11-22T11:00:00Z';
    const done = ['main', 'other'].map((name) =>
      running(pair, 'app', name, { state: 'exited', exitCode: 0, startedAt: at, finishedAt: at }),
    );
    expect(plans(pair, done)).toEqual([]);
    expect(plans(desiredState([pod('app', two('b'))], host), done)).toEqual([
      'restart-pod app: container main changed (env MODE changed): it has finished: its 2 containers are removed, then it runs again',
    ]);
    expect(plans(desiredState([pod('app', { restartPolicy: 'Never' })], host), done)).toEqual([
      'restart-pod app: container other removed: it has finished: its 2 containers are removed, then it runs again',
    ]);
    // While it runs, a changed app container is still made again alone.
    const live = [done[0] as ObservedContainer, running(pair, 'app', 'other')];
    expect(plans(desiredState([pod('app', two('b'))], host), live)).toEqual([
      'remove app/main: env MODE changed',
      'run app/main: env MODE changed',
    ]);
  });

  it('a sidecar with a startupProbe holds the next init container until the prober found it started', () => {
    const desired = desiredState(
      [
        pod('app', {
          initContainers: [
            {
              name: 'side',
              image: IMG,
              restartPolicy: 'Always',
              startupProbe: { exec: { command: ['true'] } },
            },
            { name: 'setup', image: IMG },
          ],
        } as Partial<PodManifest['spec']>),
      ],
      host,
    );
    const side = running(desired, 'app', 'side');
    const plans = (health?: HealthFile) =>
      summary(
        plan({
          folder: '/m',
          desired,
          observed: { images, containers: [side], sandboxes: setUp('app'), ...(health ? { health } : {}) },
          frozen: new Map(),
          now: NOW,
        }),
      );
    const found = (started: boolean): HealthFile => ({
      pid: 1,
      containers: { app_side: { id: side.id, started, ready: started } },
    });
    expect(plans()).toEqual([
      'wait app/side: running, not started: probes run only under the daemon (berth daemon)',
    ]);
    expect(plans(found(false))).toEqual(['wait app/side: running, not started']);
    expect(plans(found(true))).toEqual(['run app/setup: init container']);
  });

  it('a pod that must wait keeps what runs: an edit does not stop it until its replacement can start', () => {
    const before = desiredState([pod('db'), pod('web', {}, { 'berth.dev/depends-on': 'db' })], host);
    const edited = pod('web', {}, { 'berth.dev/depends-on': 'db' });
    (edited.doc as PodManifest).spec.containers[0]!.env = [{ name: 'MODE', value: 'b' }];
    const desired = desiredState([pod('db'), edited], host);
    const observed = { images, containers: [running(before, 'web')], sandboxes: setUp('db', 'web') };
    expect(summary(plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW }))).toEqual([
      'run db/main: new container',
      'wait web: waiting for db to be ready: not running',
    ]);
  });

  it("an Image's platform is pulled even when a pod wants the same reference", () => {
    const image: LoadedDoc = {
      file: '/m/images.yaml',
      line: 1,
      doc: {
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'Image',
        metadata: { name: 'app' },
        spec: { ref: IMG, platform: 'linux/arm64' },
      },
    };
    const desired = desiredState([pod('web'), image], host);
    const observed = { images: new Map(), containers: [], sandboxes: setUp('web') };
    expect(plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW })[0]).toMatchObject({
      kind: 'pull',
      image: IMG,
      platform: 'linux/arm64',
      for: ['web/main', 'Image app'],
    });
  });

  it('a pod waits for the pods it depends on to be ready (running, without probes)', () => {
    const desired = desiredState([pod('db'), pod('web', {}, { 'berth.dev/depends-on': 'db' })], host);
    const observed = { images, containers: [] as ObservedContainer[], sandboxes: setUp('db', 'web') };
    expect(summary(plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW }))).toEqual([
      'run db/main: new container',
      'wait web: waiting for db to be ready: not running',
    ]);
    observed.containers.push(running(desired, 'db'));
    expect(summary(plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW }))).toEqual([
      'run web/main: new container',
    ]);
  });

  it('a new image digest recreates, after the pull of anything missing', () => {
    const desired = desiredState([pod('web')], host);
    const observed = {
      images: new Map([[IMG, 'sha256:bbb']]),
      containers: [running(desired, 'web')],
      sandboxes: setUp('web'),
    };
    expect(summary(plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW }))).toEqual([
      'remove web/main: image digest changed',
      'run web/main: image digest changed',
    ]);
  });

  it('a failed pod backs off until its retry time, and an edit of its manifest retries it at once', () => {
    const desired = desiredState([pod('web')], host);
    const observed = { images, containers: [], sandboxes: setUp('web') };
    const failures: Failures = {
      'pod/web': {
        container: 'main',
        attempts: 3,
        error: 'ERR_RUNC: exec: "/nope": no such file',
        at: NOW - 5_000,
        retryAt: NOW + 35_000,
        fingerprint: podFingerprint(desired.pods[0] as DesiredPod),
      },
    };
    expect(plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW, failures })).toEqual([
      {
        kind: 'wait',
        pod: 'web',
        reason: 'web failed 3 times (ERR_RUNC: exec: "/nope": no such file), retry in 35 s',
        until: NOW + 35_000,
      },
    ]);
    expect(
      summary(plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW + 35_000, failures })),
    ).toEqual(['run web/main: new container']);
    const edited = pod('web');
    (edited.doc as PodManifest).spec.containers[0]!.command = ['/bin/true'];
    const fixed = desiredState([edited], host);
    expect(
      summary(plan({ folder: '/m', desired: fixed, observed, frozen: new Map(), now: NOW, failures })),
    ).toEqual(['run web/main: new container']);
  });

  it('a failed pull backs off, and the pods that need the image wait for it', () => {
    const desired = desiredState([pod('web'), pod('db')], host);
    const failures: Failures = {
      [`image/${IMG}`]: {
        for: ['web/main', 'db/main'],
        attempts: 1,
        error: 'ERR_MANIFEST_UNKNOWN: registry.lan/app:1 not found',
        at: NOW,
        retryAt: NOW + 10_000,
      },
    };
    const observed = { images: new Map(), containers: [], sandboxes: setUp('web', 'db') };
    const actions = plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW, failures });
    expect(summary(actions)).toEqual([
      `wait ${IMG}: pull failed once (ERR_MANIFEST_UNKNOWN: registry.lan/app:1 not found), retry in 10 s`,
      `wait db: waiting for image ${IMG}`,
      `wait web: waiting for image ${IMG}`,
    ]);
    expect(actions[0]).toMatchObject({ until: NOW + 10_000 });
    expect(
      plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW + 10_000, failures })[0],
    ).toEqual({
      kind: 'pull',
      image: IMG,
      for: ['db/main', 'web/main'],
      reason: `${IMG}: not in the store (db/main, web/main)`,
    });
  });
});

describe('plan after a reboot (/run gone, --root kept)', () => {
  const AGAIN = 'sandbox gone (host rebooted?): set up again, init containers run again';
  const OFF_NETWORK =
    "not on the network as it asks (its ports or names, or the host config's network, changed): set up again, init containers run again";
  /** A pod with an init container, a network namespace, a disk and a memory emptyDir. */
  const sandboxed = (name: string, restartPolicy: 'Always' | 'OnFailure' | 'Never', apps = ['main']) =>
    pod(name, {
      restartPolicy,
      initContainers: [{ name: 'init', image: IMG, volumeMounts: [{ name: 'disk', mountPath: '/d' }] }],
      containers: apps.map((n) => ({ name: n, image: IMG })),
      volumes: [
        { name: 'disk', emptyDir: {} },
        { name: 'mem', emptyDir: { medium: 'Memory' } },
      ],
    });
  const disk = (n: string) => `/r/pods/${n}/volumes/disk`;
  const mem = (n: string) => `/r/pods/${n}/volumes/mem`;
  /** What a reboot leaves: the directories, no namespace, no tmpfs. */
  const rebooted = (n: string) =>
    new Map([[n, { netns: false, volumes: { [disk(n)]: false, [mem(n)]: false }, source: `/m/${n}.yaml` }]]);
  const whole = (n: string) =>
    new Map([
      [
        n,
        {
          netns: true,
          network: { state: 'ready' as const, ports: [] },
          volumes: { [disk(n)]: false, [mem(n)]: true },
          source: `/m/${n}.yaml`,
        },
      ],
    ]);
  const ended = (d: DesiredState, p: string, c: string, exitCode: number | null) =>
    running(d, p, c, {
      state: 'exited',
      exitCode,
      finishedAt: exitCode === null ? null : '2026-11-22T11:30:00Z',
      reason: exitCode === null ? 'lost' : null,
    });
  const planFor = (
    d: DesiredState,
    containers: ObservedContainer[],
    sandboxes: Map<string, ObservedSandbox>,
  ) =>
    plan({
      folder: '/m',
      desired: d,
      observed: { images, containers, sandboxes },
      frozen: new Map(),
      now: NOW,
    });

  it('shareProcessNamespace: a holder that is gone (killed, a reboot) is a broken sandbox, made again with every container; one no longer asked for too', () => {
    const shared = pod('web', { shareProcessNamespace: true });
    const d = desiredState([shared], host);
    expect(d.pods[0]?.pidHolder).toBe('/r/pods/web/pidns.json');
    expect(d.pods[0]?.containers[0]?.settings.pidnsHolder).toBe('/r/pods/web/pidns.json');
    const alive = new Map([['web', { ...(setUp('web').get('web') as ObservedSandbox), pidns: true }]]);
    expect(planFor(d, [running(d, 'web')], alive)).toEqual([]);
    expect(summary(planFor(d, [running(d, 'web')], setUp('web')))).toEqual([
      `remove web: ${AGAIN}`,
      `setup-pod web: ${AGAIN}`,
      'run web/main: new container',
    ]);
    // The field dropped: the holder left running makes the sandbox broken, so setUpPod stops it.
    const plain = desiredState([pod('web')], host);
    expect(plain.pods[0]?.pidHolder).toBeUndefined();
    expect(summary(planFor(plain, [running(plain, 'web')], alive))).toEqual([
      `remove web: ${AGAIN}`,
      `setup-pod web: ${AGAIN}`,
      'run web/main: new container',
    ]);
  });

  it('a pod that ran (Always): every container removed, the sandbox set up again, init containers first', () => {
    const d = desiredState([sandboxed('web', 'Always')], host);
    const actions = planFor(d, [ended(d, 'web', 'init', 0), ended(d, 'web', 'main', null)], rebooted('web'));
    expect(actions).toEqual([
      {
        kind: 'remove',
        pod: 'web',
        container: 'init',
        id: 'web-init-id',
        graceSeconds: 30,
        reason: `web: ${AGAIN}`,
      },
      {
        kind: 'remove',
        pod: 'web',
        container: 'main',
        id: 'web-main-id',
        graceSeconds: 30,
        reason: `web: ${AGAIN}`,
      },
      { kind: 'setup-pod', pod: 'web', reason: `web: ${AGAIN}` },
      {
        kind: 'run',
        pod: 'web',
        container: 'init',
        restarts: 0,
        backoffMs: 0,
        waitForExit: true,
        reason: 'web/init: init container',
      },
    ]);
  });

  it('restart policies hold across the reboot, and half a sandbox counts as none', () => {
    const cases: Array<{
      name: string;
      policy: 'Always' | 'OnFailure' | 'Never';
      exits: Record<string, number | null>;
      sandbox: 'rebooted' | 'absent' | 'no tmpfs' | 'off network' | 'whole';
      apps?: string[];
      want: string[];
    }> = [
      {
        name: 'a Never job that exited 0 stays finished',
        policy: 'Never',
        exits: { init: 0, main: 0 },
        sandbox: 'rebooted',
        want: [],
      },
      {
        name: 'a Never pod that ran when the host went down is not run again',
        policy: 'Never',
        exits: { init: 0, main: null },
        sandbox: 'rebooted',
        want: [],
      },
      {
        name: 'an OnFailure job that exited 0 stays finished',
        policy: 'OnFailure',
        exits: { init: 0, main: 0 },
        sandbox: 'rebooted',
        want: [],
      },
      {
        name: 'an OnFailure pod lost with the host starts again',
        policy: 'OnFailure',
        exits: { init: 0, main: null },
        sandbox: 'rebooted',
        want: [
          `remove job: ${AGAIN}`,
          `remove job: ${AGAIN}`,
          `setup-pod job: ${AGAIN}`,
          'run job/init: init container',
        ],
      },
      {
        name: 'OnFailure: a container that exited 0 is kept and not run again, the lost one is',
        policy: 'OnFailure',
        apps: ['a', 'b'],
        exits: { a: 0, b: null },
        sandbox: 'rebooted',
        want: [`remove job: ${AGAIN}`, `setup-pod job: ${AGAIN}`, 'run job/init: init container'],
      },
      {
        name: 'an init container lost while it ran: the pod starts over',
        policy: 'Always',
        exits: { init: null },
        sandbox: 'rebooted',
        want: [`remove job: ${AGAIN}`, `setup-pod job: ${AGAIN}`, 'run job/init: init container'],
      },
      {
        name: 'no trace of the sandbox at all (a pod set up before pods were recorded)',
        policy: 'Always',
        exits: { init: 0, main: 1 },
        sandbox: 'absent',
        want: [
          `remove job: ${AGAIN}`,
          `remove job: ${AGAIN}`,
          `setup-pod job: ${AGAIN}`,
          'run job/init: init container',
        ],
      },
      {
        name: 'the namespace is there but the memory emptyDir is not mounted',
        policy: 'Always',
        exits: { init: 0, main: 1 },
        sandbox: 'no tmpfs',
        want: [
          `remove job: ${AGAIN}`,
          `remove job: ${AGAIN}`,
          `setup-pod job: ${AGAIN}`,
          'run job/init: init container',
        ],
      },
      {
        name: 'all there but its place on the network (the host config names another network): said so',
        policy: 'Always',
        exits: { init: 0, main: 1 },
        sandbox: 'off network',
        want: [
          `remove job: ${OFF_NETWORK}`,
          `remove job: ${OFF_NETWORK}`,
          `setup-pod job: ${OFF_NETWORK}`,
          'run job/init: init container',
        ],
      },
      {
        name: 'a whole sandbox: only the exited container restarts (its back-off is over)',
        policy: 'Always',
        exits: { init: 0, main: 1 },
        sandbox: 'whole',
        want: ['run job/main: exited 1, restart policy Always, restart 1 after 10 s'],
      },
    ];
    for (const c of cases) {
      const d = desiredState([sandboxed('job', c.policy, c.apps)], host);
      const observed = Object.entries(c.exits).map(([n, code]) => ended(d, 'job', n, code));
      const sandboxes = {
        rebooted: rebooted('job'),
        absent: new Map<string, ObservedSandbox>(),
        'no tmpfs': new Map([['job', { ...(rebooted('job').get('job') as ObservedSandbox), netns: true }]]),
        whole: whole('job'),
        'off network': new Map([
          ['job', { ...(whole('job').get('job') as ObservedSandbox), network: undefined }],
        ]),
      }[c.sandbox];
      expect([c.name, summary(planFor(d, observed, sandboxes))]).toEqual([c.name, c.want]);
    }
  });

  it('its bridge or veth deleted: put back on the network alone, its containers kept; with more gone, set up again', () => {
    const d = desiredState([sandboxed('job', 'Never')], host);
    const runningMain = running(d, 'job', 'main');
    const lost = (n: string) => {
      const s = whole(n).get(n) as ObservedSandbox;
      return { ...s, network: { ...(s.network as NonNullable<ObservedSandbox['network']>), lost: true } };
    };
    expect(
      summary(planFor(d, [ended(d, 'job', 'init', 0), runningMain], new Map([['job', lost('job')]]))),
    ).toEqual([
      'setup-pod job: its bridge or veth was deleted: put back on the network, its address and containers kept',
    ]);
    // A reboot's loss too (the tmpfs gone): the whole sandbox is made again, as after any reboot.
    const always = desiredState([sandboxed('job', 'Always')], host);
    const rebootedToo = { ...lost('job'), volumes: { [disk('job')]: false, [mem('job')]: false } };
    expect(
      summary(planFor(always, [running(always, 'job', 'main')], new Map([['job', rebootedToo]]))),
    ).toEqual([`remove job: ${AGAIN}`, `setup-pod job: ${AGAIN}`, 'run job/init: init container']);
  });

  it('after the new sandbox, init containers run again even though an app container is kept', () => {
    const d = desiredState([sandboxed('job', 'OnFailure', ['a', 'b'])], host);
    const kept = ended(d, 'job', 'a', 0);
    expect(summary(planFor(d, [kept], whole('job')))).toEqual(['run job/init: init container']);
    const init = ended(d, 'job', 'init', 0);
    expect(summary(planFor(d, [kept, init], whole('job')))).toEqual(['run job/b: new container']);
  });

  it("a container's own restartPolicy decides whether it starts again after the reboot, not the pod's", () => {
    // A Never pod with one container of its own restartPolicy Always: that one is lost with the host
    // and starts again (its sandbox with it); one under OnFailure that exited 0 stays finished.
    const job = (own: 'Always' | 'OnFailure') =>
      pod('job', {
        restartPolicy: 'Never',
        initContainers: [{ name: 'init', image: IMG }],
        containers: [
          { name: 'a', image: IMG, restartPolicy: own },
          { name: 'b', image: IMG },
        ],
      });
    const always = desiredState([job('Always')], host);
    const lost = [
      ended(always, 'job', 'init', 0),
      ended(always, 'job', 'a', null),
      ended(always, 'job', 'b', 0),
    ];
    expect(summary(planFor(always, lost, rebooted('job')))).toEqual([
      `remove job: ${AGAIN}`,
      `remove job: ${AGAIN}`,
      `setup-pod job: ${AGAIN}`,
      'run job/init: init container',
    ]);
    const onFailure = desiredState([job('OnFailure')], host);
    const done = [
      ended(onFailure, 'job', 'init', 0),
      ended(onFailure, 'job', 'a', 0),
      ended(onFailure, 'job', 'b', 1),
    ];
    expect(summary(planFor(onFailure, done, rebooted('job')))).toEqual([]);
  });

  it('a sandbox left half made with no container is set up again, then the pod starts', () => {
    const d = desiredState([sandboxed('web', 'Always')], host);
    expect(summary(planFor(d, [], rebooted('web')))).toEqual([
      'setup-pod web: incomplete sandbox, set up again (network namespace, volumes)',
      'run web/init: init container',
    ]);
  });

  it('a container lost with the host (no sandbox: hostNetwork) is a failed exit: restarted now, or not, per policy', () => {
    for (const [policy, code, want] of [
      [
        'Always',
        null,
        [
          'run web/main: lost with no exit code (the host went down, or its monitor was killed), restart policy Always, restart 1 now',
        ],
      ],
      [
        'OnFailure',
        null,
        [
          'run web/main: lost with no exit code (the host went down, or its monitor was killed), restart policy OnFailure, restart 1 now',
        ],
      ],
      ['Never', null, []],
      ['OnFailure', 0, []],
      ['Never', 0, []],
    ] as const) {
      const d = desiredState([pod('web', { restartPolicy: policy, hostNetwork: true })], host);
      const o = ended(d, 'web', 'main', code);
      const actions = planFor(d, [o], new Map());
      expect([policy, code, summary(actions)]).toEqual([policy, code, want]);
      if (want.length > 0)
        expect(actions[0]).toMatchObject({ replace: 'web-main-id', restarts: 1, backoffMs: 10_000 });
    }
  });

  it('a frozen pod (its file is broken) is kept as it is, reboot or not', () => {
    const d = desiredState([sandboxed('web', 'Always')], host);
    const observed = { images, containers: [ended(d, 'web', 'main', null)], sandboxes: rebooted('web') };
    const frozen = new Map([['web', '/m/web.yaml has errors']]);
    expect(
      summary(plan({ folder: '/m', desired: { pods: [], images: [] }, observed, frozen, now: NOW })),
    ).toEqual(['wait web: kept as it runs (/m/web.yaml has errors)']);
  });
});

describe('plan: apply DIR prunes only what DIR owns', () => {
  const host2 = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
  const from = (dir: string, name: string): LoadedDoc => ({ ...pod(name), file: `${dir}/${name}.yaml` });
  const desiredA = desiredState([from('/A', 'a')], host2);
  const desiredB = desiredState([from('/B', 'b')], host2);
  const a = {
    ...running(desiredA, 'a'),
    annotations: { ...running(desiredA, 'a').annotations, [ANNOTATION.source]: '/A/a.yaml' },
  };
  const b = {
    ...running(desiredB, 'b'),
    annotations: { ...running(desiredB, 'b').annotations, [ANNOTATION.source]: '/B/b.yaml' },
  };
  const sandboxes = new Map<string, ObservedSandbox>([
    ['a', { netns: true, network: { state: 'ready' as const, ports: [] }, volumes: {}, source: '/A/a.yaml' }],
    ['b', { netns: true, network: { state: 'ready' as const, ports: [] }, volumes: {}, source: '/B/b.yaml' }],
    ['c', { netns: true, network: { state: 'ready' as const, ports: [] }, volumes: {}, source: '/B/c.yaml' }], // set up, no container yet
    ['old', { netns: false, volumes: {} }], // no record: holds no workload, any apply tidies it
  ]);
  const observed = { images, containers: [a, b], sandboxes };
  const planOf = (folder: string, desired: DesiredState) =>
    summary(plan({ folder, desired, observed, frozen: new Map(), now: NOW }));
  const none: DesiredState = { pods: [], images: [] };

  it('an empty folder elsewhere removes nothing of A or B, and says whose they are', () => {
    expect(planOf('/C', none)).toEqual(['teardown-pod old: no longer in the manifests']);
    expect(podsOfOtherFolders(observed, none, '/C')).toEqual([
      { pod: 'a', folder: '/A' },
      { pod: 'b', folder: '/B' },
      { pod: 'c', folder: '/B' },
    ]);
    expect(podsOfOtherFolders(observed, desiredB, '/B')).toEqual([{ pod: 'a', folder: '/A' }]);
  });

  it("A's pod goes when A no longer has it; B's pods stay", () => {
    expect(planOf('/A', none)).toEqual([
      'remove a/main: no longer in the manifests',
      'teardown-pod a: no longer in the manifests',
      'teardown-pod old: no longer in the manifests',
    ]);
  });

  it("a container that names no source leaves its sandbox's folder standing: C's apply removes nothing of A", () => {
    const { [ANNOTATION.source]: _, ...noSource } = a.annotations;
    const o = { images, containers: [{ ...a, annotations: noSource }], sandboxes };
    expect(summary(plan({ folder: '/C', desired: none, observed: o, frozen: new Map(), now: NOW }))).toEqual([
      'teardown-pod old: no longer in the manifests',
    ]);
  });

  it("B applied: its own pods are kept or pruned, A's stays", () => {
    expect(planOf('/B', desiredB)).toEqual([
      'teardown-pod c: no longer in the manifests',
      'teardown-pod old: no longer in the manifests',
    ]);
  });
});

describe('plan: images named but not unpacked', () => {
  it('are pulled again (the pull unpacks what is missing); pods wait for nothing else', () => {
    const desired = desiredState([pod('web')], host);
    const observed = {
      images: new Map(),
      notUnpacked: new Set([IMG]),
      containers: [],
      sandboxes: setUp('web'),
    };
    expect(plan({ folder: '/m', desired, observed, frozen: new Map(), now: NOW })).toEqual([
      {
        kind: 'pull',
        image: IMG,
        for: ['web/main'],
        reason: `${IMG}: in the store but not unpacked (web/main)`,
      },
      {
        kind: 'run',
        pod: 'web',
        container: 'main',
        restarts: 0,
        backoffMs: 0,
        waitForExit: false,
        reason: 'web/main: new container',
      },
    ]);
  });
});
