// The spec hash of a desired container, computed once per container object and image digest
// (desiredSpecHash): a pod whose parsed document is the same object pass after pass (the load
// cache) keeps its hash, and anything the hash covers that changes under that same document — a
// ConfigMap's value, the image's digest — still gives a new hash, and so a recreate. Each plan case
// asserts the whole plan.
import { describe, expect, it } from 'vitest';
import type { LoadedDoc, ManifestDoc, PodManifest } from '../../src/manifest/kinds.js';
import { desiredState } from '../../src/reconcile/desired.js';
import { ANNOTATION, type ObservedContainer, OWNER_MANIFESTS, plan } from '../../src/reconcile/plan.js';
import type { ObservedSandbox } from '../../src/reconcile/sandbox.js';
import { canonicalSpec, desiredSpecHash, specHash } from '../../src/reconcile/spec-hash.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
const IMG = 'registry.lan/app:1';
const NOW = Date.parse('2026-11-30T12:00:00Z');
const doc = (d: ManifestDoc, file = '/m/web.yaml'): LoadedDoc => ({ doc: d, file, line: 1 });
const configMap = (mode: string): LoadedDoc =>
  doc({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config' }, data: { MODE: mode } });
// One object for every load: as the daemon's parse cache hands out an unchanged file's documents.
const podDoc = doc({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web' },
  spec: {
    containers: [
      {
        name: 'main',
        image: IMG,
        env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'MODE' } } }],
      },
    ],
  },
} as PodManifest);
const sandboxes = new Map<string, ObservedSandbox>([
  ['web', { netns: true, volumes: {}, source: '/m/web.yaml', network: { state: 'ready', ports: [] } }],
]);

/** The container as the executor made it from `mode` and `digest` (its hash and spec stamped on it). */
function madeFrom(mode: string, digest: string): ObservedContainer {
  const c = desiredState([configMap(mode), podDoc], host).pods[0]?.containers[0];
  const spec = canonicalSpec(c as NonNullable<typeof c>, digest);
  return {
    id: 'web-main-id',
    name: 'web_main',
    state: 'running',
    exitCode: null,
    startedAt: '2026-11-30T11:00:00Z',
    finishedAt: null,
    annotations: {
      [ANNOTATION.owner]: OWNER_MANIFESTS,
      [ANNOTATION.pod]: 'web',
      [ANNOTATION.container]: 'main',
      [ANNOTATION.source]: '/m/web.yaml',
      [ANNOTATION.hash]: specHash(spec),
      [ANNOTATION.spec]: JSON.stringify(spec),
    },
  };
}

// Loaded once each, as the parse cache keeps them while their file is unchanged.
const configMaps: Record<string, LoadedDoc> = { fast: configMap('fast'), slow: configMap('slow') };

const planFor = (mode: string, digest: string, running: ObservedContainer) =>
  plan({
    folder: '/m',
    desired: desiredState([configMaps[mode] as LoadedDoc, podDoc], host),
    observed: { images: new Map([[IMG, digest]]), containers: [running], sandboxes },
    frozen: new Map(),
    now: NOW,
  }).map((a) => `${a.kind} ${a.reason}`);

describe('desiredSpecHash', () => {
  it('is specHash(canonicalSpec(c, digest)), for each digest asked', () => {
    const c = desiredState([configMap('fast'), podDoc], host).pods[0]?.containers[0];
    const container = c as NonNullable<typeof c>;
    for (const digest of ['sha256:aaa', 'sha256:bbb', 'sha256:aaa'])
      expect(desiredSpecHash(container, digest)).toBe(specHash(canonicalSpec(container, digest)));
  });

  it('an unchanged pod plans nothing, pass after pass; its ConfigMap or digest changed under the same document, a recreate', () => {
    const running = madeFrom('fast', 'sha256:aaa');
    expect(planFor('fast', 'sha256:aaa', running)).toEqual([]);
    expect(planFor('fast', 'sha256:aaa', running)).toEqual([]);
    expect(planFor('fast', 'sha256:bbb', running)).toEqual([
      'remove web/main: image digest changed',
      'run web/main: image digest changed',
    ]);
    expect(planFor('slow', 'sha256:aaa', running)).toEqual([
      'remove web/main: ConfigMap web-config key MODE changed',
      'run web/main: ConfigMap web-config key MODE changed',
    ]);
    expect(planFor('fast', 'sha256:aaa', running)).toEqual([]);
  });
});

describe('a spec that cannot be hashed', () => {
  it('fails again at once for the same container and digest, without serialising it again', () => {
    const c = desiredState([configMap('a'), podDoc], host).pods[0]?.containers[0] as Parameters<
      typeof desiredSpecHash
    >[0];
    // A value JSON cannot write throws as a spec past V8's longest string does, at the same step.
    let reads = 0;
    const settings = { ...c.settings, odd: 1n };
    const broken = {
      ...c,
      get settings() {
        reads++;
        return settings;
      },
    } as typeof c;
    expect(() => desiredSpecHash(broken, 'sha256:aaa')).toThrow(/BigInt/);
    const once = reads;
    expect(once).toBeGreaterThan(0);
    expect(() => desiredSpecHash(broken, 'sha256:aaa')).toThrow(/BigInt/);
    expect(reads).toBe(once);
    // Another digest is another spec: tried again.
    expect(() => desiredSpecHash(broken, 'sha256:bbb')).toThrow(/BigInt/);
    expect(reads).toBeGreaterThan(once);
  });
});
