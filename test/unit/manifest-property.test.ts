// Property: whatever the schema accepts goes through load → desired state → plan without an
// exception, and whatever loads cleanly also converts (desired state finds nothing unusable: the
// load-time checks run the same converters). Pods are generated from small alphabets with the edge
// cases in them (quantities of every form, names at and over the limits, image references the parser
// refuses, volumes, mounts, env); the seed is printed (SEED=… replays a run).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadManifests } from '../../src/manifest/load.js';
import { desiredState } from '../../src/reconcile/desired.js';
import { frozenPods } from '../../src/reconcile/frozen.js';
import { plan } from '../../src/reconcile/plan.js';
import { observedFrom, TEST_HOST } from '../helpers/observed.js';
import { prng, randomTools, seedFor } from '../helpers/random.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-property-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function generator(random: () => number) {
  const { int, chance, pick, char } = randomTools(random);
  const label = (max: number) => {
    const length = pick([1, 2, 5, max, max - 1, 1 + int(max)]);
    const body = Array.from({ length }, () => char('abcz09-')).join('');
    return `${char('a0')}${body.slice(1, -1)}${length > 1 ? char('z9') : ''}`.slice(0, Math.max(1, length));
  };
  const digits = () => Array.from({ length: 1 + int(3) }, () => char('0123456789')).join('');
  const quantity = (): string | number =>
    chance(0.5)
      ? pick(['64Mi', '250m', '1', '0.5', '1Gi', '6Mi', '1e9', '100M', '.5', '+2'])
      : chance(0.25)
        ? pick([0, 1, 0.5, 1e3, 1e21, 6291456, 1.5e-7, Number.POSITIVE_INFINITY, 2 ** 60])
        : `${pick(['', '+', '-'])}${chance(0.2) ? `.${digits()}` : `${digits()}${chance(0.3) ? `.${chance(0.5) ? digits() : ''}` : ''}`}${pick(
            [
              '',
              'n',
              'u',
              'm',
              'k',
              'M',
              'G',
              'T',
              'P',
              'E',
              'Ki',
              'Mi',
              'Gi',
              'Ti',
              'Pi',
              'Ei',
              'e3',
              'E-2',
              'e+18',
              'e999',
            ],
          )}`;
  const image = () =>
    chance(0.7)
      ? pick(['busybox:1', 'registry.lan:5000/a/b:1.2'])
      : pick([
          'busybox',
          'busybox:1',
          'BusyBox:1',
          'registry.lan:5000/a/b:1.2',
          `a@sha256:${'ab'.repeat(32)}`,
          `a@sha256:${'AB'.repeat(32)}`,
          'busybox:',
          'localhost/x',
          '::',
          'a b',
          '-x',
          'x'.repeat(300),
          'ghcr.io/o/r@sha512:00',
        ]);
  const volumeNames = ['data', 'cache', 'v'.repeat(63)];
  const volume = (name: string) =>
    pick([
      { name, emptyDir: {} },
      { name, emptyDir: { medium: 'Memory' } },
      {
        name,
        hostPath: {
          path: pick(['/srv/x', '/', '/tmp/a b']),
          type: pick(['', 'DirectoryOrCreate', 'Directory']),
        },
      },
      {
        name,
        persistentVolumeClaim: { claimName: pick(['db', 'a.b_c', 'x'.repeat(128)]), readOnly: chance(0.5) },
      },
    ]);
  const resources = () => {
    const some = () => ({
      ...(chance(0.6) ? { memory: quantity() } : {}),
      ...(chance(0.6) ? { cpu: quantity() } : {}),
    });
    return { ...(chance(0.7) ? { limits: some() } : {}), ...(chance(0.3) ? { requests: some() } : {}) };
  };
  const container = (name: string, volumes: string[]) => ({
    name,
    image: image(),
    ...(chance(0.3) ? { imagePullPolicy: pick(['Always', 'IfNotPresent', 'Never']) } : {}),
    ...(chance(0.3) ? { command: ['/bin/sh', '-c', pick(['true', '', 'échappé'])] } : {}),
    ...(chance(0.3) ? { args: [pick(['a', '', '--x=1'])] } : {}),
    ...(chance(0.2) ? { workingDir: pick(['/', '/app', '/proc/self/fd']) } : {}),
    ...(chance(0.4)
      ? {
          env: Array.from({ length: int(3) }, () => ({
            name: pick(['A', 'PATH', 'x y', 'É']),
            value: pick(['', '1', '=']),
          })),
        }
      : {}),
    ...(chance(0.6) ? { resources: resources() } : {}),
    ...(chance(0.5) && volumes.length > 0
      ? {
          volumeMounts: volumes.map((v) => ({
            name: chance(0.9) ? v : 'undeclared',
            mountPath: pick(['/data', '/', '/a/b']),
            ...(chance(0.3) ? { readOnly: true } : {}),
            ...(chance(0.2) ? { subPath: pick(['x', 'a/b', 'x y']) } : {}),
          })),
        }
      : {}),
    ...(chance(0.3)
      ? {
          securityContext: {
            runAsUser: pick([0, 65534, 2 ** 31]),
            readOnlyRootFilesystem: chance(0.5),
            capabilities: { drop: ['ALL'], add: chance(0.3) ? ['NET_ADMIN'] : [] },
          },
        }
      : {}),
  });
  const pod = (name: string, others: string[]) => {
    const volumes = chance(0.5) ? volumeNames.slice(0, 1 + int(volumeNames.length)) : [];
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        ...(chance(0.3) && others.length > 0
          ? {
              annotations: {
                'berth.dev/depends-on': [pick(others), pick(['', 'ghost'])].filter(Boolean).join(','),
              },
            }
          : {}),
      },
      spec: {
        containers: Array.from({ length: 1 + int(2) }, (_, i) =>
          container(i === 0 ? label(chance(0.2) ? 63 : 8) : `c${i}`, volumes),
        ),
        ...(chance(0.3) ? { initContainers: [container('init', volumes)] } : {}),
        ...(chance(0.3) ? { restartPolicy: pick(['Always', 'OnFailure', 'Never']) } : {}),
        ...(chance(0.2) ? { terminationGracePeriodSeconds: pick([0, 30, 3600]) } : {}),
        ...(chance(0.2) ? { hostNetwork: true } : {}),
        ...(volumes.length > 0 ? { volumes: volumes.map(volume) } : {}),
      },
    };
  };
  const imageDoc = (name: string) => ({
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Image',
    metadata: { name },
    spec: { ref: image(), ...(chance(0.3) ? { pullPolicy: pick(['Always', 'IfNotPresent', 'Never']) } : {}) },
  });
  return { label, pod, imageDoc, int, chance };
}

describe('schema-valid random folders', () => {
  it('load → desired state → plan never throws, and what loads converts', async () => {
    const seed = seedFor('manifest property');
    const g = generator(prng(seed));
    let loadedPods = 0;
    let refused = 0;
    for (let round = 0; round < 150; round++) {
      const d = join(dir, `r${round}`);
      await mkdir(d);
      const names: string[] = [];
      for (let f = 0; f < 1 + g.int(3); f++) {
        const docs = Array.from({ length: 1 + g.int(2) }, () => {
          const name = g.label(g.chance(0.2) ? 63 : 12);
          const doc = g.chance(0.85) ? g.pod(name, names) : g.imageDoc(name);
          names.push(name);
          return stringify(doc);
        });
        await writeFile(join(d, `m${f}.yaml`), docs.join('---\n'));
      }
      const where = `seed ${seed}, round ${round} (${d})`;
      const loaded = await loadManifests(d);
      const desired = desiredState(loaded.docs, TEST_HOST);
      expect(desired.unusable ?? [], where).toEqual([]);
      const observed = observedFrom(loaded.docs, {});
      for (const o of [observedFrom([]), observed]) {
        const frozen = frozenPods(loaded, o, desired);
        expect(
          () => plan({ folder: d, desired, observed: o, frozen, now: Date.parse('2026-11-30T12:00:00Z') }),
          where,
        ).not.toThrow();
      }
      loadedPods += desired.pods.length;
      refused += loaded.diagnostics.length;
    }
    console.log(`loaded ${loadedPods} pods, ${refused} diagnostics`);
    // Not vacuous: many pods load, and many values are refused with a diagnostic.
    expect(loadedPods).toBeGreaterThan(15); // 26–57 over the seeds tried (a cluster refuses many random values)
    expect(refused).toBeGreaterThan(30);
  });
});
