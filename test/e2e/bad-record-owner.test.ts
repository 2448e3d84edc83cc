// Who owns a container whose record (container.json) is damaged, end to end as root with real runc,
// conmon and overlayfs. The record is damaged as a crash or a full disk leaves it (an empty file,
// JSON cut short); the owner is then read from the annotations berth wrote into the bundle's
// config.json, never guessed from the name: a standalone container named `web_extra` holds no pod
// `web`, while a pod's own container with a damaged record still keeps its pod as it runs.
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('the owner of a container whose record is damaged', () => {
  let e2e: E2eHost | undefined;
  const pod = `web${randomBytes(3).toString('hex')}`;
  const berth = (...args: string[]) => (e2e as E2eHost).berth(...args);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const idOf = async (name: string) =>
    (
      JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{ name: string; id: string }>
    ).find((c) => c.name === name)?.id as string;
  const recordOf = (id: string) => join((e2e as E2eHost).root, 'containers', id, 'container.json');
  const podText = () =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${pod}}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
    `  containers:\n    - name: main\n      image: ${(e2e as E2eHost).image}\n      command: [/bin/sleep, '1000']\n`;

  beforeAll(async () => {
    e2e = await setUpE2eHost('bad-record-owner');
    expect((await berth('image', 'pull', e2e.image)).code).toBe(0);
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await tearDownE2eHost(e2e, { forceFirst: true });
    expect(leaked).toEqual([]);
  });

  for (const [how, damage] of [
    ['an empty file', () => ''],
    ['JSON cut short', (text: string) => text.slice(0, Math.floor(text.length / 2))],
  ] as const) {
    it(`a standalone container named <pod>_x whose record is ${how} holds no pod <pod>`, async () => {
      const e = e2e as E2eHost;
      const name = `${pod}_extra`;
      const made = await berth('container', 'create', e.image, name, '--', '/bin/sleep', '1000');
      expect([made.code, made.stderr]).toEqual([0, '']);
      const id = await idOf(name);
      const record = recordOf(id);
      await writeFile(record, damage(await readFile(record, 'utf8')));
      try {
        await writeFile(join(e.dir, 'web.yaml'), podText());
        const apply = await berth('apply', e.dir);
        expect([apply.code, apply.stdout]).toEqual([
          0,
          `setup-pod    ${pod}: new pod (network namespace, volumes)\nrun          ${pod}/main: new container\n`,
        ]);
        expect((await ps()).map((p) => [p.name, p.containers.map((c) => c.state)])).toEqual([
          [pod, ['running']],
        ]);
        // The pod's own container, its record damaged the same way: its pod is kept as it runs.
        const mine = recordOf(await idOf(`${pod}_main`));
        const saved = await readFile(mine, 'utf8');
        await writeFile(mine, damage(saved));
        try {
          await writeFile(join(e.dir, 'web.yaml'), podText().replace("'1000'", "'10000'"));
          const kept = await berth('plan', e.dir);
          expect([kept.code, kept.stdout]).toEqual([0, 'nothing to do: the host matches the manifests\n']);
        } finally {
          await writeFile(mine, saved);
        }
      } finally {
        expect((await berth('container', 'rm', '--force', id)).code).toBe(0);
        await rm(join(e.dir, 'web.yaml'), { force: true });
        expect((await berth('apply', e.dir)).code).toBe(0);
      }
    }, 60_000);
  }
});
