// One name given to several entries of the store's index.json, as a hand-edited layout or another
// tool writing into it may leave it: entries of one digest are one image; entries of two digests
// are no image for any reader (getImage, findImage and findImages, the reconciler's observation),
// ERR_AMBIGUOUS naming the name; `image rm` (findImages with `every`) removes the name whole, and a
// put names it once again. Before, getImage and findImage took the first entry and the
// reconciler's map the last, so a pod was planned for one digest and created from the other.
// `image ls` lists one row per name and digest (an entry written twice was two rows), the rows of an
// ambiguous name marked in the table and in its JSON, with a warning saying how to mend it.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createContentStore } from '../../src/content/index.js';
import type { ContentStore, ImageRecord } from '../../src/content/types.js';
import { collectImages } from '../../src/images/disk-gc.js';
import { findImage, findImages } from '../../src/images/index.js';
import { isBerthError } from '../../src/lib/errors.js';
import { type Digest, sha256Of } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { observeImages } from '../../src/reconcile/observe.js';
import type { RuntimeDeps } from '../../src/runtime/containers.js';
import { createSnapshotStore } from '../../src/snapshot/snapshot-store.js';
import { runBerth } from '../helpers/cli.js';

const NAME = 'registry.lan/app:1';
const OTHER = 'registry.lan/other:1';

const record = (name: string, digest: Digest, size = 1): ImageRecord => ({
  name,
  target: { mediaType: MediaType.ociManifest, digest, size },
  repoDigest: digest,
  pulledAt: '2026-01-01T00:00:00.000Z',
});

async function failure(p: Promise<unknown>): Promise<{ code?: string; message?: string } | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return isBerthError(err) ? { code: err.code, message: err.message } : { message: String(err) };
  }
}

describe('a name index.json gives to several entries', () => {
  let root: string;
  let store: ContentStore;
  const index = () => join(root, 'content/index.json');
  /** index.json with the entry named `from` renamed `to` (as an editor or another tool leaves it). */
  const rename = async (from: string, to: string) => {
    const json = JSON.parse(await readFile(index(), 'utf8'));
    for (const m of json.manifests)
      if (m.annotations['org.opencontainers.image.ref.name'] === from)
        m.annotations['org.opencontainers.image.ref.name'] = to;
    await writeFile(index(), JSON.stringify(json));
  };
  // No snapshot is there: every image is named but not unpacked, which the observation says by name.
  const rt = {
    images: async () => ({ store, snapshots: { get: async () => undefined } }),
  } as unknown as RuntimeDeps;

  /** A manifest of no layers and its config (`tag` makes it its own), stored; its descriptor's digest and size. */
  const storeImage = async (tag: string) => {
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Env: [`TAG=${tag}`] },
        rootfs: { type: 'layers', diff_ids: [] },
      }),
    );
    const configDesc = { mediaType: MediaType.ociConfig, digest: sha256Of(config), size: config.length };
    await store.putBlob(configDesc, config);
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDesc, layers: [] }),
    );
    const digest = sha256Of(manifest);
    await store.putBlob({ mediaType: MediaType.ociManifest, digest, size: manifest.length }, manifest);
    return { digest, size: manifest.length, id: configDesc.digest, configSize: config.length };
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-image-names-'));
    store = createContentStore({ root });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('of two digests is no image to any reader: ERR_AMBIGUOUS naming it and both digests', async () => {
    await store.putImage(record(NAME, sha256Of('first')));
    await store.putImage(record('registry.lan/second:1', sha256Of('second')));
    await store.putImage(record(OTHER, sha256Of('other')));
    await rename('registry.lan/second:1', NAME);
    const ambiguous = {
      code: 'ERR_AMBIGUOUS',
      message: `image name "${NAME}" is given to 2 entries of the store's index.json (${sha256Of('first')}, ${sha256Of('second')})`,
    };
    expect(await failure(store.getImage(NAME))).toEqual(ambiguous);
    expect(await failure(findImage(store, NAME))).toEqual(ambiguous);
    expect(await failure(findImages(store, NAME))).toEqual(ambiguous);
    expect((await store.getImage(OTHER))?.target.digest).toBe(sha256Of('other'));
    // The reconciler has no image of that name: it runs nothing from it and pulls it (which names it once).
    const seen = await observeImages(rt, store);
    expect([[...(seen.pulledAt?.keys() ?? [])], [...(seen.notUnpacked ?? [])]]).toEqual([[OTHER], [OTHER]]);
    expect([...(seen.ambiguousImages ?? [])]).toEqual([NAME]);
    // image rm asks for every entry, and removes the name whole.
    expect((await findImages(store, NAME, { every: true })).map((r) => r.target.digest)).toEqual([
      sha256Of('first'),
      sha256Of('second'),
    ]);
    expect(await store.removeImage(NAME)).toBe(true);
    expect(await store.getImage(NAME)).toBeUndefined();
    await store.putImage(record(NAME, sha256Of('third')));
    expect((await findImage(store, NAME)).target.digest).toBe(sha256Of('third'));
  });

  it('of one digest is that one image', async () => {
    await store.putImage(record(NAME, sha256Of('first')));
    await store.putImage(record('registry.lan/copy:1', sha256Of('first')));
    await rename('registry.lan/copy:1', NAME);
    expect((await store.getImage(NAME))?.target.digest).toBe(sha256Of('first'));
    expect((await findImages(store, NAME)).map((r) => r.target.digest)).toEqual([sha256Of('first')]);
    expect([...((await observeImages(rt, store)).notUnpacked ?? [])]).toEqual([NAME]);
  });

  it('image ls: one row per name and digest, an ambiguous name marked in the table and the JSON', async () => {
    // Before: an entry index.json held twice was two rows, and nothing said a name listed under
    // two IDs is no image to any command (create, inspect, unpack refuse it with ERR_AMBIGUOUS).
    const [first, second, other] = [
      await storeImage('first'),
      await storeImage('second'),
      await storeImage('other'),
    ];
    await store.putImage(record(NAME, first.digest, first.size));
    await store.putImage(record('registry.lan/second:1', second.digest, second.size));
    await store.putImage(record(OTHER, other.digest, other.size));
    await rename('registry.lan/second:1', NAME);
    // OTHER's entry written twice, as another tool writing into the layout may leave it.
    const json = JSON.parse(await readFile(index(), 'utf8'));
    json.manifests.push(structuredClone(json.manifests.at(-1)));
    await writeFile(index(), JSON.stringify(json));
    expect((await store.listImages()).map((r) => r.name)).toEqual([NAME, NAME, OTHER, OTHER]);

    const warning = `warning: image name "${NAME}" is given to 2 entries of the store's index.json (${first.digest}, ${second.digest}): no command takes it (remove them with: berth image rm ${NAME}; then pull or import it again)\n`;
    const berth = (...args: string[]) => runBerth(['--root', root, '--state', join(root, 'state'), ...args]);
    const ls = await berth('image', 'ls', '--output', 'json');
    expect([ls.code, ls.stderr]).toEqual([0, warning]);
    const rows = (JSON.parse(ls.stdout) as Array<Record<string, unknown>>).map((r) => [
      r.name,
      r.digest,
      r.id,
      r.ambiguous,
    ]);
    const named = [first, second].sort((a, b) => a.digest.localeCompare(b.digest));
    expect(rows).toEqual([
      ...named.map((i) => [NAME, i.digest, i.id, true]),
      [OTHER, other.digest, other.id, false],
    ]);

    const table = await berth('image', 'ls');
    expect([table.code, table.stderr]).toEqual([0, warning]);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 2))).toEqual([
      ...named.map((i) => [i.id.slice('sha256:'.length, 'sha256:'.length + 12), `${NAME} (ambiguous)`]),
      [other.id.slice('sha256:'.length, 'sha256:'.length + 12), OTHER],
    ]);

    // Mended as the warning says, the name is one row again and no longer marked.
    expect((await berth('image', 'rm', '--keep-content', NAME)).code).toBe(0);
    const after = await berth('image', 'ls', '--output', 'json');
    expect([after.code, after.stderr]).toEqual([0, '']);
    expect(
      (JSON.parse(after.stdout) as Array<Record<string, unknown>>).map((r) => [r.name, r.ambiguous]),
    ).toEqual([[OTHER, false]]);
  });

  it('disk GC counts an entry written twice as one image: it frees that one, not the next too', async () => {
    // As two images, each shared all its content with the other: removing it was estimated to free
    // nothing, and GC went on to remove the next least recently used image as well.
    const old = await storeImage('o'.repeat(4000));
    const newer = await storeImage('n');
    await store.putImage(record(NAME, old.digest, old.size));
    await store.putImage({
      ...record(OTHER, newer.digest, newer.size),
      pulledAt: '2026-02-01T00:00:00.000Z',
    });
    const json = JSON.parse(await readFile(index(), 'utf8'));
    json.manifests.push(structuredClone(json.manifests[0]));
    await writeFile(index(), JSON.stringify(json));
    // 90% used; removing the older image (its manifest and config) takes the estimate just under
    // the low threshold, and the file system measured after the prune is well under it.
    const frees = old.size + old.configSize;
    let measured = 0;
    const result = await collectImages(
      {
        store,
        snapshotStores: [createSnapshotStore(root, 'overlay')],
        snapshotsInUse: async () => [],
        imagesInUse: async () => new Set(),
        diskUsage: async () => ({ totalBytes: 100_000, usedBytes: measured++ === 0 ? 90_000 : 10_000 }),
        now: () => new Date('2026-06-01T00:00:00.000Z'),
      },
      {
        wants: async () => ({ wanted: new Set(), keep: new Map() }),
        highPercent: 80,
        lowPercent: (90_000 - frees + 1) / 1000,
        trim: false,
      },
    );
    expect(result?.removed).toEqual([NAME]);
    expect((await store.listImages()).map((r) => r.name)).toEqual([OTHER]);
  });
});
