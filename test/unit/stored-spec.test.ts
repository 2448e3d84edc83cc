// A container's stored spec (berth.dev/spec) of another shape than berth writes (JSON that is no
// object, settings that are none, env entries that are no strings: an annotation edited or cut
// short) is no spec: the container is made again as a changed one ("spec changed"), where the
// planner threw on it and kept the pod as it ran (ERR_INTERNAL) on every pass.
import { describe, expect, it } from 'vitest';
import type { LoadedDoc, PodManifest } from '../../src/manifest/kinds.js';
import { type DesiredPod, type DesiredState, desiredState } from '../../src/reconcile/desired.js';
import { ANNOTATION, type ObservedContainer, OWNER_MANIFESTS, plan } from '../../src/reconcile/plan.js';
import { canonicalSpec, parseStoredSpec, specHash } from '../../src/reconcile/spec-hash.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
const IMG = 'registry.lan/app:1';
const DIGEST = 'sha256:aaa';
const NOW = Date.parse('2026-11-22T12:00:00Z');
const SHAPES = ['5', '"x"', 'null', '[]', '{"settings": 7}', '{"settings": null}', '{"image": "a"}'];

/** Pod `app`: init container `init` (unless `withInit` is false) and app container `main`. */
function app(withInit = true, restartPolicy: 'Always' | 'Never' = 'Always'): DesiredState {
  const doc = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'app' },
    spec: {
      restartPolicy,
      ...(withInit ? { initContainers: [{ name: 'init', image: IMG }] } : {}),
      containers: [{ name: 'main', image: IMG }],
    },
  } as PodManifest;
  const loaded: LoadedDoc = { file: '/m/app.yaml', line: 1, doc };
  return desiredState([loaded], host);
}

/** `container` as made from its spec (exited 0 for an init container, running otherwise), its stored spec `spec` if given, and then a hash of another spec. */
function made(d: DesiredState, container: string, spec?: string, exited = false): ObservedContainer {
  const p = d.pods[0] as DesiredPod;
  const c = [...p.initContainers, ...p.containers].find((x) => x.name === container);
  const canonical = canonicalSpec(c as NonNullable<typeof c>, DIGEST);
  const done = exited || container === 'init';
  return {
    id: `app-${container}-id`,
    name: `app_${container}`,
    state: done ? 'exited' : 'running',
    exitCode: done ? 0 : null,
    startedAt: '2026-11-22T11:00:00Z',
    finishedAt: done ? '2026-11-22T11:00:01Z' : null,
    annotations: {
      [ANNOTATION.owner]: OWNER_MANIFESTS,
      [ANNOTATION.pod]: 'app',
      [ANNOTATION.container]: container,
      [ANNOTATION.source]: '/m/app.yaml',
      [ANNOTATION.hash]: spec === undefined ? specHash(canonical) : 'another0hash0000',
      [ANNOTATION.spec]: spec ?? JSON.stringify(canonical),
    },
  };
}

const planOf = (desired: DesiredState, containers: ObservedContainer[]) =>
  plan({
    folder: '/m',
    desired,
    observed: {
      images: new Map([[IMG, DIGEST]]),
      containers,
      sandboxes: new Map([
        [
          'app',
          {
            netns: true,
            network: { state: 'ready' as const, ports: [] },
            volumes: {},
            source: '/m/app.yaml',
          },
        ],
      ]),
    },
    frozen: new Map(),
    now: NOW,
  }).map((a) => `${a.kind} ${a.reason}`);

describe('a stored spec of another shape', () => {
  it('is none', () => {
    expect(SHAPES.map(parseStoredSpec)).toEqual(SHAPES.map(() => undefined));
    const spec = canonicalSpec((app().pods[0] as DesiredPod).containers[0] as never, DIGEST);
    expect(parseStoredSpec(JSON.stringify(spec))).toEqual(spec);
  });

  it('makes its app container again as a changed one', () => {
    const desired = app();
    for (const shape of SHAPES)
      expect(planOf(desired, [made(desired, 'init'), made(desired, 'main', shape)]), shape).toEqual([
        'remove app/main: spec changed',
        'run app/main: spec changed',
      ]);
    // Settings of the shape, an env entry not: said in words, never thrown on.
    const c = (desired.pods[0] as DesiredPod).containers[0] as DesiredPod['containers'][0];
    const spec = canonicalSpec(c, DIGEST);
    const env = JSON.stringify({ ...spec, settings: { ...spec.settings, env: [5, 'A=1'] } });
    expect(planOf(desired, [made(desired, 'init'), made(desired, 'main', env)])).toEqual([
      'remove app/main: env A removed',
      'run app/main: env A removed',
    ]);
  });

  it('starts the pod again for its init container, and for an app container once the pod has finished', () => {
    const desired = app();
    expect(planOf(desired, [made(desired, 'init', '{"settings": 7}'), made(desired, 'main')])).toEqual([
      'restart-pod app: init container init changed (spec changed): its 2 containers stop (grace 30 s), then it starts again from its init containers',
    ]);
    const never = app(true, 'Never');
    expect(planOf(never, [made(never, 'init'), made(never, 'main', '"x"', true)])).toEqual([
      'restart-pod app: container main changed (spec changed): it has finished: its 2 containers are removed, then it runs again from its init containers',
    ]);
  });
});
