import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import {
  archiveImage,
  buildImage,
  createLayout,
  type Layout,
  populateBusybox,
  populateRandom,
  pushImage,
} from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['skopeo', 'umoci', 'docker-registry'], { root: true });

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
    if (work) await removeTempRoot(work);
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

  it('a layer whose bytes changed but not its size: unpack and export name it, take it out of the store, and the next import stores it again', async () => {
    const inspect = await berth('image', 'inspect', 'example.com/a:1');
    expect(inspect.code).toBe(0);
    const layer = (
      JSON.parse(inspect.stdout) as { manifest: { layers: Array<{ digest: string; size: number }> } }
    ).manifest.layers[0] as { digest: string; size: number };
    const damage = async () => {
      const bytes = await readFile(blob(layer.digest));
      const at = Math.floor(bytes.length / 2);
      bytes[at] = (bytes[at] ?? 0) ^ 0xff;
      await writeFile(blob(layer.digest), bytes);
    };
    const gone = () =>
      stat(blob(layer.digest)).then(
        () => false,
        () => true,
      );

    await damage();
    const out = join(work, 'a.rootfs');
    const unpack = await berth('image', 'unpack', 'example.com/a:1', out);
    expect(unpack.code).not.toBe(0);
    expect(unpack.stderr).toContain('ERR_BLOB_DAMAGED');
    expect(unpack.stderr).toContain(layer.digest);
    expect(unpack.stderr).toContain('berth image pull example.com/a:1');
    expect(await gone()).toBe(true);
    expect((await berth('image', 'import', archive('a'))).code).toBe(0);
    expect((await stat(blob(layer.digest))).size).toBe(layer.size);
    const again = await berth('image', 'unpack', 'example.com/a:1', join(work, 'a.rootfs2'));
    expect([again.code, again.stderr]).toEqual([0, '']);

    await damage();
    const file = join(work, 'out.tar');
    const exported = await berth('image', 'export', 'example.com/a:1', '-o', file);
    expect(exported.code).not.toBe(0);
    expect(exported.stderr).toContain('ERR_BLOB_DAMAGED');
    expect(exported.stderr).toContain(layer.digest);
    expect(
      await stat(file).then(
        () => true,
        () => false,
      ),
    ).toBe(false);
    expect(await gone()).toBe(true);
    expect((await berth('image', 'import', archive('a'))).code).toBe(0);
    const whole = await berth('image', 'export', 'example.com/a:1', '-o', file);
    expect([whole.code, whole.stderr]).toEqual([0, '']);
  });

  it('a pull that unpacks from a stored layer found damaged fetches that layer again and succeeds', async () => {
    const registry = await startRegistry();
    try {
      // Its own top layer: no snapshot of it is in the store yet.
      await buildImage(layout, 'c', [populateRandom(1, 64 << 10)], { from: 'a' });
      const ref = `${registry.host}/damaged/c:1`;
      await pushImage(layout, 'c', ref);
      const first = await berth('image', 'pull', '--no-unpack', ref);
      expect([first.code, first.stderr]).toEqual([0, '']);
      const inspect = await berth('image', 'inspect', ref);
      const layer = (JSON.parse(inspect.stdout) as { manifest: { layers: Array<{ digest: string }> } })
        .manifest.layers[1] as { digest: string };
      const bytes = await readFile(blob(layer.digest));
      const at = Math.floor(bytes.length / 3);
      bytes[at] = (bytes[at] ?? 0) ^ 0xff;
      await writeFile(blob(layer.digest), bytes);
      const pull = await berth('image', 'pull', '-o', 'json', ref);
      expect([pull.code, pull.stderr]).toEqual([0, '']);
      expect(JSON.parse(pull.stdout)).toMatchObject({ fetchedLayers: 1, unpackedLayers: 1 });
      const unpack = await berth('image', 'unpack', ref, join(work, 'pulled.rootfs'));
      expect([unpack.code, unpack.stderr]).toEqual([0, '']);
    } finally {
      await registry.stop();
    }
  });
});
