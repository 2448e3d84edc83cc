// A file whose pod cannot be built (here a $(VAR) expansion past its 128 KiB bound, found only when
// desired state builds the pod) is a file with an error like any other: reconcile's loads apply its
// last good content instead, and never record it as the last good content. Before, it became the
// last good content: the pod was kept frozen as it ran, and a later broken edit fell back on this
// version, which never ran, instead of the one that did.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastGoodStore } from '../../src/manifest/last-good.js';
import { loadManifests } from '../../src/manifest/load.js';
import { buildable, planOnce, type Reconciler } from '../../src/reconcile/loop.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
const NOW = Date.parse('2026-12-04T04:00:00Z');

const pod = (env: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  hostNetwork: true\n  containers:\n    - name: main\n      image: busybox:1\n      env:\n${env}`;
const v1 = pod('        - {name: MODE, value: one}\n');
// 70,000 characters twice over is past the bound: the schema and every check of the file pass.
const v2 = pod(`        - {name: A, value: ${'x'.repeat(70_000)}}\n        - {name: B, value: '$(A)$(A)'}\n`);
const v3 = `${v1}      bad: [\n`;

describe('a file whose pod cannot be built', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-last-good-build-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('is not its last good content: its last good one applies, and a broken edit falls back on that', async () => {
    const dir = join(work, 'manifests');
    const file = join(dir, 'web.yaml');
    await mkdir(dir);
    const lastGood = lastGoodStore(join(work, 'root', 'last-good'));
    // As `apply` and the daemon load: their clean files recorded, pods built as the pass will.
    const load = () => loadManifests(dir, { lastGood, keepLastGood: true, buildable: buildable(host) });
    const envOf = (docs: Awaited<ReturnType<typeof load>>['docs']) =>
      docs
        .flatMap((d) => (d.doc.kind === 'Pod' ? (d.doc.spec.containers[0]?.env ?? []) : []))
        .map((e) => e.name);
    const saved = async () => {
      const [json] = await readdir(join(work, 'root', 'last-good'));
      return JSON.parse(await readFile(join(work, 'root', 'last-good', json as string), 'utf8')).files;
    };

    await writeFile(file, v1);
    expect(envOf((await load()).docs)).toEqual(['MODE']);
    expect(await saved()).toEqual({ 'web.yaml': v1 });

    await writeFile(file, v2);
    const second = await load();
    expect(await saved()).toEqual({ 'web.yaml': v1 });
    expect(envOf(second.docs)).toEqual(['MODE']); // v1 applies
    expect(second.fromLastGood).toEqual([file]);
    expect(second.diagnostics.map((d) => `${d.file}:${d.line}: ${d.code}`)).toEqual([
      `${file}:1: ERR_EXPANSION_TOO_LONG`,
    ]);
    // `plan` sees it so too: web is planned from v1, not kept frozen; the error is reported.
    const r = { host, now: () => NOW, lastGood } as unknown as Reconciler;
    const observe = async () => ({ images: new Map(), containers: [], sandboxes: new Map() });
    const planned = await planOnce(r, dir, { observe });
    expect(planned.frozen).toEqual(new Map());
    expect(planned.desired.pods.map((p) => p.containers[0]?.settings.env?.includes('MODE=one'))).toEqual([
      true,
    ]);
    expect(planned.loaded.diagnostics.map((d) => d.code)).toEqual(['ERR_EXPANSION_TOO_LONG']);

    // A broken edit falls back on v1, the version that ran.
    await writeFile(file, v3);
    const third = await load();
    expect(envOf(third.docs)).toEqual(['MODE']);
    expect(await saved()).toEqual({ 'web.yaml': v1 });
  });
});
