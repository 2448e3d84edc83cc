import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { archiveImage, buildImage, createLayout, type Layout, populateBusybox } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['skopeo', 'umoci'], { root: true });

describe.skipIf(skip)('a damaged blob', () => {
  let layout: Layout;
  let work: string;
  const berth = (...args: string[]) =>
    runBerth(['--root', join(work, 'root'), '--state', join(work, 'state'), ...args]);
  const archive = (t: string) => join(work, `${t}.tar`);
  const blob = (digest: string) =>
    join(work, 'root', 'content', 'blobs', 'sha256', digest.slice('sha256:'.length));
  const names = (stdout: string) => (JSON.parse(stdout) as Array<{ name: string }>).map((i) => i.name);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-blob-damaged-'));
    layout = await createLayout();
    await buildImage(layout, 'a', [populateBusybox]);
    await buildImage(layout, 'b', [], { from: 'a', cmd: '/bin/true' });
    for (const t of ['a', 'b']) {
      await archiveImage(layout, t, archive(t), `example.com/${t}:1`);
      const r = await berth('image', 'import', archive(t));
      expect([r.code, r.stderr]).toEqual([0, '']);
    }
  }, 180_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
    await layout?.cleanup();
  });

  it('leaves the other images listed, names the broken one, and is stored again by the next import', async () => {
    const index = JSON.parse(await readFile(join(work, 'root', 'content', 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; annotations: Record<string, string> }>;
    };
    const a = index.manifests.find(
      (m) => m.annotations['org.opencontainers.image.ref.name'] === 'example.com/a:1',
    );
    const manifest = JSON.parse(await readFile(blob(a?.digest as string), 'utf8')) as {
      config: { digest: string; size: number };
    };
    await writeFile(blob(manifest.config.digest), '');

    const ls = await berth('image', 'ls', '-o', 'json');
    expect(ls.code).toBe(0);
    expect(names(ls.stdout)).toEqual(['example.com/b:1']);
    expect(ls.stderr).toContain('example.com/a:1');

    const again = await berth('image', 'import', archive('a'));
    expect([again.code, again.stderr]).toEqual([0, '']);
    expect((await stat(blob(manifest.config.digest))).size).toBe(manifest.config.size);
    const after = await berth('image', 'ls', '-o', 'json');
    expect([after.code, after.stderr]).toEqual([0, '']);
    expect(names(after.stdout)).toEqual(['example.com/a:1', 'example.com/b:1']);
  });
});
