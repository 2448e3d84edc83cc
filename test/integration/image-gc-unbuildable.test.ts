// Image GC reads the folder as the pass reads it (reconcile/pass-read.ts). A file whose new content
// parses but cannot be built (an expansion past its bound) is applied from its last good content:
// GC must want that content's image, not the new one's. Before, GC loaded the folder without the
// buildable check, counted the new content's image as wanted, and under disk pressure removed the
// image the last good pod still needs (its container not made yet: here it waits for a Secret).
// Disk pressure is thresholds the store's file system is already past (high 1%, low 0%).
import { mkdir, mkdtemp, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { archiveImage, buildImage, createLayout, type Layout, populateRandom } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['skopeo', 'umoci'], { root: true });

// It waits for a Secret nobody defines: no container is made, so only the manifests protect its image.
const pod = (image: string, env = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: gc-keeper}\nspec:\n  hostNetwork: true\n  containers:\n    - name: main\n      image: example.com/${image}:1\n      imagePullPolicy: Never\n` +
  `      env:\n        - {name: P, valueFrom: {secretKeyRef: {name: absent, key: k}}}\n${env}`;
// Past the 128 KiB bound of an expansion: found when the pod is built, not by the schema.
const UNBUILDABLE = `        - {name: A, value: ${'x'.repeat(70_000)}}\n        - {name: B, value: '$(A)$(A)'}\n`;

describe.skipIf(skip)('image GC and a file whose pod cannot be built', () => {
  let layout: Layout;
  let work: string;
  const berth = (...args: string[]) =>
    runBerth([
      '--root',
      join(work, 'root'),
      '--state',
      join(work, 'state'),
      '--config',
      join(work, 'config.yaml'),
      ...args,
    ]);
  const names = async () =>
    (JSON.parse((await berth('image', 'ls', '--output', 'json')).stdout) as Array<{ name: string }>)
      .map((i) => i.name)
      .sort();
  const importImage = async (tag: string) => {
    const file = join(work, `${tag}.tar`);
    await archiveImage(layout, tag, file, `example.com/${tag}:1`);
    const imported = await berth('image', 'import', file);
    expect([imported.code, imported.stderr]).toEqual([0, '']);
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-gc-unbuildable-'));
    await writeFile(join(work, 'auth.json'), '{"auths": {}}\n');
    await writeFile(
      join(work, 'config.yaml'),
      `auth:\n  configFile: ${JSON.stringify(join(work, 'auth.json'))}\nimages:\n  gcHighPercent: 1\n  gcLowPercent: 0\n`,
    );
    layout = await createLayout();
    for (const tag of ['old', 'new']) await buildImage(layout, tag, [populateRandom(1, 64 * 1024)]);
  }, 120_000);

  afterAll(async () => {
    await layout?.cleanup();
    if (work) await removeTempRoot(work);
  });

  it("keeps the last good content's image and collects the one the new content names", async () => {
    const fs = await statfs(work);
    expect(1 - fs.bavail / fs.blocks).toBeGreaterThan(0.02); // past gcHighPercent: every apply collects
    const dir = join(work, 'manifests');
    await mkdir(dir);
    await importImage('old');
    await writeFile(join(dir, 'pod.yaml'), pod('old'));
    const first = await berth('apply', dir);
    expect([first.code, first.stderr, first.stdout]).toEqual([
      0,
      '',
      'wait         gc-keeper: waiting for Secret absent\n',
    ]);
    expect(await names()).toEqual(['example.com/old:1']);
    // The pod now names another image, and cannot be built: its last good content stays applied.
    await importImage('new');
    await writeFile(join(dir, 'pod.yaml'), pod('new', UNBUILDABLE));
    const second = await berth('apply', dir);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`${join(dir, 'pod.yaml')}:1:1: ERR_EXPANSION_TOO_LONG`);
    expect(second.stdout).toMatch(
      /^image gc: removed 1 image\(s\) \(example\.com\/new:1\), freed [\d.]+ [kKM]?B; file system \d+% → \d+% used\nwait {9}gc-keeper: waiting for Secret absent\n$/,
    );
    expect(await names()).toEqual(['example.com/old:1']);
  }, 120_000);
});
