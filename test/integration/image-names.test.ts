// One name given to several entries of the store's index.json, as a hand-edited layout or another
// tool writing into it may leave it: entries of one digest are one image; entries of two digests
// are no image for any reader (getImage, findImage and findImages, the reconciler's observation),
// ERR_AMBIGUOUS naming the name; `image rm` (findImages with `every`) removes the name whole, and a
// put names it once again. Before, getImage and findImage took the first entry and the
// reconciler's map the last, so a pod was planned for one digest and created from the other.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createContentStore } from '../../src/content/index.js';
import type { ContentStore, ImageRecord } from '../../src/content/types.js';
import { findImage, findImages } from '../../src/images/index.js';
import { isBerthError } from '../../src/lib/errors.js';
import { type Digest, sha256Of } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { observeImages } from '../../src/reconcile/observe.js';
import type { RuntimeDeps } from '../../src/runtime/containers.js';

const NAME = 'registry.lan/app:1';
const OTHER = 'registry.lan/other:1';

const record = (name: string, digest: Digest): ImageRecord => ({
  name,
  target: { mediaType: MediaType.ociManifest, digest, size: 1 },
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
});
