// The planner, table-driven: each case asserts the whole plan.
import { describe, expect, it } from 'vitest';
import type { LoadedDoc, PodManifest } from '../../src/manifest/kinds.js';
import { type DesiredPod, type DesiredState, desiredState } from '../../src/reconcile/desired.js';
import { type Failures, podFingerprint } from '../../src/reconcile/failures.js';
import { ANNOTATION, type ObservedContainer, OWNER_MANIFESTS, plan } from '../../src/reconcile/plan.js';
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
      [ANNOTATION.hash]: specHash(spec),
      [ANNOTATION.spec]: JSON.stringify(spec),
    },
    ...over,
  };
}

const images = new Map([[IMG, DIGEST]]);
const summary = (actions: ReturnType<typeof plan>) => actions.map((a) => `${a.kind} ${a.reason}`);

describe('plan', () => {
  it('a new pod on an empty host: pull first, then the pod, then its container', () => {
    const desired = desiredState([pod('web')], host);
    const actions = plan({
      desired,
      observed: { images: new Map(), containers: [], podsSetUp: new Set() },
      frozen: new Map(),
      now: NOW,
    });
    expect(summary(actions)).toEqual([
      `pull ${IMG}: not in the store (web/main)`,
      'setup-pod web: new pod (network namespace, volumes)',
      'run web/main: new container',
    ]);
  });

  it('nothing to do when what runs matches', () => {
    const desired = desiredState([pod('web')], host);
    const observed = { images, containers: [running(desired, 'web')], podsSetUp: new Set(['web']) };
    expect(plan({ desired, observed, frozen: new Map(), now: NOW })).toEqual([]);
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
      podsSetUp: new Set(['web', 'db']),
    };
    expect(summary(plan({ desired, observed, frozen: new Map(), now: NOW }))).toEqual([
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
    const observed = { images, containers: [exited], podsSetUp: new Set(['web']) };
    expect(summary(plan({ desired, observed, frozen: new Map(), now: NOW }))).toEqual([
      'wait web/main: exited 1, restart policy Always, back-off 40 s',
    ]);
    const later = plan({ desired, observed, frozen: new Map(), now: NOW + 40_000 });
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
          desired,
          observed: { images, containers: [o], podsSetUp: new Set(['job']) },
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
    const observed = { images, containers: [running(before, 'old'), byHand], podsSetUp: new Set(['old']) };
    expect(
      summary(plan({ desired: { pods: [], images: [] }, observed, frozen: new Map(), now: NOW })),
    ).toEqual(['remove old: no longer in the manifests', 'teardown-pod old: no longer in the manifests']);
  });

  it('a pod whose file is broken is kept exactly as it runs', () => {
    const before = desiredState([pod('web')], host);
    const observed = { images, containers: [running(before, 'web')], podsSetUp: new Set(['web']) };
    const frozen = new Map([['web', '/m/web.yaml has errors']]);
    expect(summary(plan({ desired: { pods: [], images: [] }, observed, frozen, now: NOW }))).toEqual([
      'wait web: kept as it runs (/m/web.yaml has errors)',
    ]);
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
      desired,
      observed: { images, containers: [], podsSetUp: new Set(['app']) },
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
          desired,
          observed: { images, containers: [migrated], podsSetUp: new Set(['app']) },
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
          desired,
          observed: { images, containers: [migrated, seeded], podsSetUp: new Set(['app']) },
          frozen: new Map(),
          now: NOW,
        }),
      ),
    ).toEqual(['run app/main: new container']);
  });

  it('a pod that must wait keeps what runs: an edit does not stop it until its replacement can start', () => {
    const before = desiredState([pod('db'), pod('web', {}, { 'berth.dev/depends-on': 'db' })], host);
    const edited = pod('web', {}, { 'berth.dev/depends-on': 'db' });
    (edited.doc as PodManifest).spec.containers[0]!.env = [{ name: 'MODE', value: 'b' }];
    const desired = desiredState([pod('db'), edited], host);
    const observed = { images, containers: [running(before, 'web')], podsSetUp: new Set(['db', 'web']) };
    expect(summary(plan({ desired, observed, frozen: new Map(), now: NOW }))).toEqual([
      'run db/main: new container',
      'wait web: waiting for db to run',
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
    const observed = { images: new Map(), containers: [], podsSetUp: new Set(['web']) };
    expect(plan({ desired, observed, frozen: new Map(), now: NOW })[0]).toMatchObject({
      kind: 'pull',
      image: IMG,
      platform: 'linux/arm64',
      for: ['web/main', 'Image app'],
    });
  });

  it('a pod waits for the pods it depends on to run', () => {
    const desired = desiredState([pod('db'), pod('web', {}, { 'berth.dev/depends-on': 'db' })], host);
    const observed = { images, containers: [] as ObservedContainer[], podsSetUp: new Set(['db', 'web']) };
    expect(summary(plan({ desired, observed, frozen: new Map(), now: NOW }))).toEqual([
      'run db/main: new container',
      'wait web: waiting for db to run',
    ]);
    observed.containers.push(running(desired, 'db'));
    expect(summary(plan({ desired, observed, frozen: new Map(), now: NOW }))).toEqual([
      'run web/main: new container',
    ]);
  });

  it('a new image digest recreates, after the pull of anything missing', () => {
    const desired = desiredState([pod('web')], host);
    const observed = {
      images: new Map([[IMG, 'sha256:bbb']]),
      containers: [running(desired, 'web')],
      podsSetUp: new Set(['web']),
    };
    expect(summary(plan({ desired, observed, frozen: new Map(), now: NOW }))).toEqual([
      'remove web/main: image digest changed',
      'run web/main: image digest changed',
    ]);
  });

  it('a failed pod backs off until its retry time, and an edit of its manifest retries it at once', () => {
    const desired = desiredState([pod('web')], host);
    const observed = { images, containers: [], podsSetUp: new Set(['web']) };
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
    expect(plan({ desired, observed, frozen: new Map(), now: NOW, failures })).toEqual([
      {
        kind: 'wait',
        pod: 'web',
        reason: 'web failed 3 times (ERR_RUNC: exec: "/nope": no such file), retry in 35 s',
        until: NOW + 35_000,
      },
    ]);
    expect(summary(plan({ desired, observed, frozen: new Map(), now: NOW + 35_000, failures }))).toEqual([
      'run web/main: new container',
    ]);
    const edited = pod('web');
    (edited.doc as PodManifest).spec.containers[0]!.command = ['/bin/true'];
    const fixed = desiredState([edited], host);
    expect(summary(plan({ desired: fixed, observed, frozen: new Map(), now: NOW, failures }))).toEqual([
      'run web/main: new container',
    ]);
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
    const observed = { images: new Map(), containers: [], podsSetUp: new Set(['web', 'db']) };
    const actions = plan({ desired, observed, frozen: new Map(), now: NOW, failures });
    expect(summary(actions)).toEqual([
      `wait ${IMG}: pull failed once (ERR_MANIFEST_UNKNOWN: registry.lan/app:1 not found), retry in 10 s`,
      `wait db: waiting for image ${IMG}`,
      `wait web: waiting for image ${IMG}`,
    ]);
    expect(actions[0]).toMatchObject({ until: NOW + 10_000 });
    expect(plan({ desired, observed, frozen: new Map(), now: NOW + 10_000, failures })[0]).toEqual({
      kind: 'pull',
      image: IMG,
      for: ['db/main', 'web/main'],
      reason: `${IMG}: not in the store (db/main, web/main)`,
    });
  });
});
