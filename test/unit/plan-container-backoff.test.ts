// An app container its own settings refuse at create (container-config.ts) backs off alone, as the
// kubelet keeps a back-off per container: its failure, kept under the pod's key, holds only its own
// run, and the pod's other containers still restart on their own back-off; the others' actions
// succeeding do not end its back-off, its own run or an edit of the pod does. An init container's or
// a sidecar's failure still holds the whole pod.
import { describe, expect, it } from 'vitest';
import { BerthError } from '../../src/lib/errors.js';
import type { LoadedDoc, PodManifest } from '../../src/manifest/kinds.js';
import { type DesiredPod, type DesiredState, desiredState } from '../../src/reconcile/desired.js';
import { type Failures, podFingerprint, recordPass } from '../../src/reconcile/failures.js';
import {
  type Action,
  ANNOTATION,
  type ObservedContainer,
  OWNER_MANIFESTS,
  plan,
} from '../../src/reconcile/plan.js';
import { canonicalSpec, specHash } from '../../src/reconcile/spec-hash.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
const IMG = 'registry.lan/app:1';
const DIGEST = 'sha256:aaa';
const NOW = Date.parse('2026-11-22T12:00:00Z');
const ROOT = new BerthError('ERR_RUN_AS_ROOT', 'invalid', 'container bad: runAsNonRoot, but runAsUser is 0');

/** Pod `app`: `bad` (runAsUser 0 under runAsNonRoot), `good`, and a native sidecar `side`. */
function app(command = ['sleep', '1000']): DesiredState {
  const doc: PodManifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'app' },
    spec: {
      initContainers: [{ name: 'side', image: IMG, restartPolicy: 'Always' }],
      containers: [
        { name: 'bad', image: IMG, securityContext: { runAsNonRoot: true, runAsUser: 0 } },
        { name: 'good', image: IMG, command },
      ],
    },
  } as PodManifest;
  const loaded: LoadedDoc = { file: '/m/app.yaml', line: 1, doc };
  return desiredState([loaded], host);
}

/** `container` of `d`'s pod as made from its spec, running or exited (1, a minute ago). */
function observed(d: DesiredState, container: string, exited = false): ObservedContainer {
  const p = d.pods[0] as DesiredPod;
  const c = [...p.initContainers, ...p.containers].find((x) => x.name === container);
  const spec = canonicalSpec(c as NonNullable<typeof c>, DIGEST);
  return {
    id: `app-${container}-id`,
    name: `app_${container}`,
    state: exited ? 'exited' : 'running',
    exitCode: exited ? 1 : null,
    startedAt: '2026-11-22T11:00:00Z',
    finishedAt: exited ? '2026-11-22T11:59:00Z' : null,
    annotations: {
      [ANNOTATION.owner]: OWNER_MANIFESTS,
      [ANNOTATION.pod]: 'app',
      [ANNOTATION.container]: container,
      [ANNOTATION.source]: '/m/app.yaml',
      [ANNOTATION.hash]: specHash(spec),
      [ANNOTATION.spec]: JSON.stringify(spec),
    },
  };
}

const run = (container: string): Action => ({
  kind: 'run',
  pod: 'app',
  container,
  restarts: 0,
  backoffMs: 0,
  waitForExit: false,
  reason: `app/${container}`,
});

const sandboxes = new Map([
  [
    'app',
    { netns: true, network: { state: 'ready' as const, ports: [] }, volumes: {}, source: '/m/app.yaml' },
  ],
]);

const planAt = (desired: DesiredState, containers: ObservedContainer[], failures: Failures, now = NOW) =>
  plan({
    folder: '/m',
    desired,
    observed: { images: new Map([[IMG, DIGEST]]), containers, sandboxes },
    frozen: new Map(),
    now,
    failures,
  }).map((a) => `${a.kind}${'container' in a && a.container ? ` ${a.container}` : ''}: ${a.reason}`);

/** The failures after `bad`'s run failed alone `times` times, the last at `NOW - 5 s`. */
function badFailed(desired: DesiredState, times: number): Failures {
  let f: Failures = {};
  for (let i = 0; i < times; i++)
    f = recordPass(
      f,
      { done: [run('good')], failed: [{ action: run('bad'), error: ROOT, alone: true }] },
      {
        now: NOW - 5_000,
        fingerprint: () => podFingerprint(desired.pods[0] as DesiredPod),
        live: new Set(['pod/app']),
      },
    );
  return f;
}

describe('an app container refused by its own settings', () => {
  it("backs off alone: the wait is its own, and the pod's crashed container still restarts on its own back-off", () => {
    const desired = app();
    const failures = badFailed(desired, 6);
    expect(failures['pod/app']).toMatchObject({ container: 'bad', alone: true, attempts: 6 });
    expect(planAt(desired, [observed(desired, 'side'), observed(desired, 'good', true)], failures)).toEqual([
      'wait bad: app/bad failed 6 times (ERR_RUN_AS_ROOT: container bad: runAsNonRoot, but runAsUser is 0), retry in 295 s',
      'run good: app/good: exited 1, restart policy Always, restart 1 after 10 s',
    ]);
    // Nothing else to do: the pod's plan is the wait alone, and once it is over bad is tried again.
    expect(planAt(desired, [observed(desired, 'side'), observed(desired, 'good')], failures)).toEqual([
      'wait bad: app/bad failed 6 times (ERR_RUN_AS_ROOT: container bad: runAsNonRoot, but runAsUser is 0), retry in 295 s',
    ]);
    expect(
      planAt(desired, [observed(desired, 'side'), observed(desired, 'good')], failures, NOW + 295_000),
    ).toEqual(['run bad: app/bad: new container']);
  });

  it("stays backing off while the pod's other actions succeed; its own run or an edit of the pod ends it", () => {
    const desired = app();
    const failures = badFailed(desired, 2);
    const opts = {
      now: NOW,
      fingerprint: () => podFingerprint(desired.pods[0] as DesiredPod),
      live: new Set(['pod/app']),
    };
    expect(recordPass(failures, { done: [run('good')], failed: [] }, opts)).toEqual(failures);
    expect(recordPass(failures, { done: [run('bad')], failed: [] }, opts)).toEqual({});
    expect(
      recordPass(failures, { done: [run('good')], failed: [] }, { ...opts, fingerprint: () => 'edited' }),
    ).toEqual({});
  });

  it("a sidecar's or an init container's failure still holds the whole pod", () => {
    const desired = app();
    const failures = badFailed(desired, 1);
    const side = { ...(failures['pod/app'] as Failures[string]), container: 'side' };
    expect(planAt(desired, [observed(desired, 'good', true)], { 'pod/app': side })).toEqual([
      'wait: app failed once (ERR_RUN_AS_ROOT: container bad: runAsNonRoot, but runAsUser is 0), retry in 5 s',
    ]);
    const { alone: _, ...notAlone } = failures['pod/app'] as Failures[string];
    expect(
      planAt(desired, [observed(desired, 'side'), observed(desired, 'good', true)], { 'pod/app': notAlone }),
    ).toEqual([
      'wait: app failed once (ERR_RUN_AS_ROOT: container bad: runAsNonRoot, but runAsUser is 0), retry in 5 s',
    ]);
  });
});
