// Who the plan takes for a writer of a pod's config volume (plan-volumes.ts): a container that still
// runs and mounts the volume's directory read-write, as its stored spec says, or as the desired spec
// says when its spec hash is that one's. Such a writer's volume is written (checked again) even when
// berth's record of it still matches, and its readers wait for the writer to go.
import { describe, expect, it } from 'vitest';
import type { LoadedDoc, ManifestDoc, PodManifest } from '../../src/manifest/kinds.js';
import { type DesiredState, desiredState } from '../../src/reconcile/desired.js';
import { ANNOTATION, type ObservedContainer, OWNER_MANIFESTS, plan } from '../../src/reconcile/plan.js';
import type { ObservedSandbox } from '../../src/reconcile/sandbox.js';
import { canonicalSpec, specHash } from '../../src/reconcile/spec-hash.js';

const node = { name: 'edge-1', ip: '192.0.2.7', milliCpus: 2000, memoryBytes: 4 * 2 ** 30 };
const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns', node };
const IMG = 'registry.lan/app:1';
const NEXT = 'registry.lan/app:2';
const DIGEST = 'sha256:aaa';
const NOW = Date.parse('2026-11-30T12:00:00Z');
const PATH = '/r/pods/web/volumes/config';

const doc = (d: ManifestDoc, file = '/m/web.yaml'): LoadedDoc => ({ doc: d, file, line: 1 });
const configMap = (mode: string): LoadedDoc =>
  doc({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config' }, data: { MODE: mode } });

/** Pod web: main mounting volume config (an emptyDir or ConfigMap web-config), and maybe side reading it. */
function made(kind: 'emptyDir' | 'configMap', opts: { image?: string; side?: boolean; mode?: string } = {}) {
  const p: PodManifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: {
      containers: [
        { name: 'main', image: opts.image ?? IMG, volumeMounts: [{ name: 'config', mountPath: '/etc/web' }] },
        ...(opts.side
          ? [{ name: 'side', image: IMG, volumeMounts: [{ name: 'config', mountPath: '/etc/side' }] }]
          : []),
      ],
      volumes: [
        {
          name: 'config',
          ...(kind === 'emptyDir' ? { emptyDir: {} } : { configMap: { name: 'web-config' } }),
        },
      ],
    },
  };
  return desiredState([configMap(opts.mode ?? 'a'), doc(p)], host);
}

/** Container `name` of `d` as berth made it, running; `annotations` put over berth's own. */
function running(
  d: DesiredState,
  name = 'main',
  annotations: Record<string, string> = {},
): ObservedContainer {
  const c = d.pods[0]?.containers.find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  const spec = canonicalSpec(c, DIGEST);
  return {
    id: `web-${name}-id`,
    name: `web_${name}`,
    state: 'running',
    exitCode: null,
    startedAt: '2026-11-30T11:00:00Z',
    finishedAt: null,
    annotations: {
      [ANNOTATION.owner]: OWNER_MANIFESTS,
      [ANNOTATION.pod]: 'web',
      [ANNOTATION.container]: name,
      [ANNOTATION.source]: '/m/web.yaml',
      [ANNOTATION.hash]: specHash(spec),
      [ANNOTATION.spec]: JSON.stringify(spec),
      ...annotations,
    },
  };
}

/** The host holds `stamp` in pods/web/volumes/config, as berth recorded it. */
const sandbox = (stamp: string | undefined) =>
  new Map<string, ObservedSandbox>([
    [
      'web',
      {
        netns: true,
        volumes: { [PATH]: false },
        stamps: stamp ? { [PATH]: stamp } : {},
        source: '/m/web.yaml',
        network: { state: 'ready', ports: [] },
      },
    ],
  ]);

const stampOf = (d: DesiredState) => d.pods[0]?.configVolumes?.[0]?.stamp;

function planned(
  desired: DesiredState,
  containers: ObservedContainer[],
  stamp: string | undefined,
  inStore = [IMG],
) {
  const images = new Map(inStore.map((i) => [i, DIGEST]));
  const sandboxes = sandbox(stamp);
  return plan({
    folder: '/m',
    desired,
    observed: { images, containers, sandboxes },
    frozen: new Map(),
    now: NOW,
  }).map((a) => `${a.kind} ${a.reason}`);
}

describe("a config volume's record that outlived an emptyDir of its name", () => {
  it('a writer still running from the emptyDir holds the readers though the stamp matches; once it goes, the volume is checked after it', () => {
    // ConfigMap → emptyDir (main mounts it read-write) → the same ConfigMap again: berth's record of
    // the first write still matches while main changed nothing yet, and main's new image is not in
    // the store, so its removal is not planned: side must not start beside it.
    const config = made('configMap', { image: NEXT, side: true });
    const writer = running(made('emptyDir'));
    expect(planned(config, [writer], stampOf(config))).toEqual([
      `pull ${NEXT}: not in the store (web/main)`,
      'wait web/side: volume config is not written yet (a container that mounts it read-write still runs: it was another kind of volume)',
    ]);
    // Its image is here: main goes first, then the volume is checked (written again if main changed it).
    expect(planned(config, [writer], stampOf(config), [IMG, NEXT])).toEqual([
      'remove web/main: image registry.lan/app:1 → registry.lan/app:2, mounts changed; removed before volume config is written (it mounts it read-write: it was another kind of volume)',
      'write-volume web: volume config checked again: a container that mounts it read-write still runs (it was another kind of volume)',
      'run web/main: image registry.lan/app:1 → registry.lan/app:2, mounts changed',
      'run web/side: new container',
    ]);
  });

  it('readers alone (config volumes are mounted read-only) write nothing while the stamp matches', () => {
    const config = made('configMap', { side: true });
    expect(planned(config, [running(config), running(config, 'side')], stampOf(config))).toEqual([]);
  });
});

describe('a running container whose stored spec cannot be read', () => {
  const before = made('configMap', { mode: 'a' });
  const after = made('configMap', { mode: 'b' });
  const update = 'write-volume web: volume config ConfigMap web-config changed: updated in place';

  it("made from the desired spec (its hash says so): its mounts are that spec's, read-only, and the update is written", () => {
    for (const spec of [
      '{"image":"registry.lan/app:1","settings":{"mou',
      '',
      'null',
      '5',
      '"x"',
      '{"settings":{"mounts":7}}',
    ])
      expect(
        planned(after, [running(before, 'main', { [ANNOTATION.spec]: spec })], stampOf(before)),
        spec,
      ).toEqual([update]);
  });

  it('made from another spec: a writer of every volume until its removal, planned first once its image is here', () => {
    const unknown = { [ANNOTATION.spec]: '{', [ANNOTATION.hash]: 'feedfacefeedface' };
    expect(planned(after, [running(before, 'main', unknown)], stampOf(before))).toEqual([
      'remove web/main: spec changed; removed before volume config is written (it mounts it read-write: it was another kind of volume)',
      update,
      'run web/main: spec changed',
    ]);
    // Its image not in the store: no removal can be planned yet, and the volume waits for it.
    expect(planned(after, [running(before, 'main', unknown)], stampOf(before), [])).toEqual([
      `pull ${IMG}: not in the store (web/main)`,
    ]);
  });
});
