// Pull unpacks into shared snapshots keyed by chainID: once per layer, published whole, collected
// when no image uses them, and finished by the next pull after a kill -9 mid-unpack (the layer
// served half and stalled, so the kill lands mid-unpack whatever the host's speed).
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContentStore } from '../../src/content/index.js';
import { describeImage } from '../../src/images/index.js';
import { chainIds } from '../../src/snapshot/chain.js';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { putSimpleImage, stallBody, startHostileRegistry } from '../helpers/hostile-registry.js';
import {
  buildImage,
  createLayout,
  type Layout,
  populateBusybox,
  populateRandom,
  pushImage,
} from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['docker-registry', 'skopeo', 'umoci', 'setfattr', 'mknod'], { root: true });

async function manyFiles(rootfs: string): Promise<void> {
  for (let d = 0; d < 60; d++) {
    const dir = join(rootfs, 'many', `d${d}`);
    await mkdir(dir, { recursive: true });
    await Promise.all(
      Array.from({ length: 500 }, (_, f) => writeFile(join(dir, `f${f}`), `file ${d}/${f}\n`)),
    );
  }
}

describe.skipIf(skip)('snapshots', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  const berth = (root: string, ...args: string[]) => runBerth(['--root', root, ...args]);
  const snapshotDirs = async (root: string) =>
    (await readdir(join(root, 'snapshots')).catch(() => [] as string[])).sort();

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-snapshots-'));
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'base', [populateBusybox]);
    await buildImage(layout, 'app', [populateRandom(2, 100_000)], { from: 'base' });
    // One layer: many/ first in the tar, then 16 MiB that does not compress.
    await buildImage(layout, 'stalled', [
      async (rootfs) => {
        await manyFiles(rootfs);
        await populateRandom(16, 2 ** 20, 'zz')(rootfs);
      },
    ]);
    await pushImage(layout, 'base', `${registry.host}/test/base:1`);
    await pushImage(layout, 'app', `${registry.host}/test/app:1`);
  }, 180_000);
  afterAll(async () => {
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
  });

  /** The single layer of image `tag` in the test layout: its blob and diffID. */
  async function layerOf(tag: string): Promise<{ blob: Buffer; diffId: string }> {
    const oci = join(layout.dir, 'oci');
    const blobPath = (digest: string) => join(oci, 'blobs', ...digest.split(':'));
    const index = JSON.parse(await readFile(join(oci, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
    };
    const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
    const manifest = JSON.parse(await readFile(blobPath(entry?.digest ?? ''), 'utf8')) as {
      config: { digest: string };
      layers: Array<{ digest: string }>;
    };
    const config = JSON.parse(await readFile(blobPath(manifest.config.digest), 'utf8')) as {
      rootfs: { diff_ids: string[] };
    };
    expect(manifest.layers).toHaveLength(1);
    return {
      blob: await readFile(blobPath(manifest.layers[0]?.digest ?? '')),
      diffId: config.rootfs.diff_ids[0] ?? '',
    };
  }

  async function expectedChainIds(root: string, name: string): Promise<string[]> {
    const store = createContentStore({ root });
    const record = await store.getImage(name);
    const details = await describeImage(store, record as NonNullable<typeof record>);
    return chainIds(details.config.rootfs.diff_ids).map((d) => d.slice(7));
  }

  it('unpacks every layer once, shares it, and collects it when no image uses it', async () => {
    const root = join(work, 'shared');
    const base = JSON.parse(
      (await berth(root, 'image', 'pull', '-o', 'json', `${registry.host}/test/base:1`)).stdout,
    );
    expect(base.unpackedLayers).toBe(1);
    const app = JSON.parse(
      (await berth(root, 'image', 'pull', '-o', 'json', `${registry.host}/test/app:1`)).stdout,
    );
    expect(app.unpackedLayers).toBe(1); // the busybox layer is shared
    const appIds = await expectedChainIds(root, `${registry.host}/test/app:1`);
    const baseIds = await expectedChainIds(root, `${registry.host}/test/base:1`);
    expect(appIds[0]).toBe(baseIds[0]);
    expect(await snapshotDirs(root)).toEqual([...appIds].sort());
    for (const id of appIds)
      expect(await readdir(join(root, 'snapshots', id))).toEqual(['fs', 'snapshot.json']);

    const ls = JSON.parse((await berth(root, 'image', 'ls', '-o', 'json')).stdout) as Array<{
      unpackedSize: number;
    }>;
    expect(ls.every((i) => i.unpackedSize > 1_000_000)).toBe(true);

    const rm1 = JSON.parse(
      (await berth(root, 'image', 'rm', '-o', 'json', `${registry.host}/test/app:1`)).stdout,
    );
    expect(rm1.removedSnapshots).toBe(1);
    expect(await snapshotDirs(root)).toEqual(baseIds);
    await berth(root, 'image', 'rm', '--keep-content', `${registry.host}/test/base:1`);
    const prune = JSON.parse((await berth(root, 'image', 'prune', '-o', 'json')).stdout);
    expect(prune.removedSnapshots).toEqual(baseIds.map((id) => `sha256:${id}`));
    expect(await snapshotDirs(root)).toEqual([]);
  });

  it('--no-unpack only fetches; the next pull unpacks', async () => {
    const root = join(work, 'no-unpack');
    const ref = `${registry.host}/test/app:1`;
    expect((await berth(root, 'image', 'pull', '--no-unpack', ref)).code).toBe(0);
    expect(await snapshotDirs(root)).toEqual([]);
    expect(JSON.parse((await berth(root, 'image', 'ls', '-o', 'json')).stdout)[0].unpackedSize).toBeNull();
    const again = JSON.parse((await berth(root, 'image', 'pull', '-o', 'json', ref)).stdout);
    expect([again.fetchedLayers, again.unpackedLayers]).toEqual([0, 2]);
  });

  it('after kill -9 mid-unpack, the next pull finishes and no half snapshot is left', async () => {
    const root = join(work, 'killed');
    // The layer comes from a registry that sends all but its last 2 MiB and then stalls: the unpack is
    // under way (many/ is at the front of the tar) and cannot finish, so the kill lands mid-unpack on
    // any host, fast or slow. The next pull gets the whole layer.
    const { blob, diffId } = await layerOf('stalled');
    const reg = await startHostileRegistry();
    try {
      const img = putSimpleImage(reg, 'test/many', '1', blob, diffId);
      reg.on(`/blobs/${img.layer.digest}`, stallBody(blob, blob.length - 2 * 2 ** 20, 1));
      const ref = `${reg.host}/test/many:1`;
      const child = spawnBerth(['--root', root, 'image', 'pull', ref]);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise((r) => child.once('exit', r));
      const unpacking = async () => {
        const tmp = (await snapshotDirs(root)).find((n) => n.startsWith('.tmp-'));
        if (!tmp) return false;
        return (await readdir(join(root, 'snapshots', tmp, 'fs', 'many')).catch(() => [])).length >= 5;
      };
      let seen = false;
      try {
        for (let i = 0; i < 1200 && !seen && child.exitCode === null; i++) {
          seen = await unpacking();
          if (!seen) await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
      expect([seen, stderr]).toEqual([true, '']);
      expect((await snapshotDirs(root)).filter((n) => !n.startsWith('.tmp-'))).toEqual([]);

      const res = await berth(root, 'image', 'pull', ref);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      const ids = await expectedChainIds(root, ref);
      expect(await snapshotDirs(root)).toEqual(ids); // the half snapshot's temp directory is gone
      const dirs = await readdir(join(root, 'snapshots', ids[0] as string, 'fs', 'many'));
      expect(dirs).toHaveLength(60);
      expect(await readdir(join(root, 'snapshots', ids[0] as string, 'fs', 'many', 'd59'))).toHaveLength(500);
      expect(await readdir(join(root, 'snapshots', ids[0] as string, 'fs', 'zz'))).toHaveLength(16);
    } finally {
      await reg.close();
    }
  });
});
