// The content store's side of image GC: LAST USED recorded (and not rewritten within the minute),
// and a tag's previous digest kept under its digest name when asked (an Image's `keep`).
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createContentStore } from '../../src/content/index.js';
import type { ContentStore, ImageRecord } from '../../src/content/types.js';
import { type Digest, sha256Of } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';

const record = (name: string, digest: Digest): ImageRecord => ({
  name,
  target: { mediaType: MediaType.ociManifest, digest, size: 1 },
  repoDigest: digest,
  pulledAt: '2026-01-01T00:00:00.000Z',
});

describe('image records for GC', () => {
  let root: string;
  let store: ContentStore;
  let clock = new Date('2026-02-01T00:00:00.000Z');
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-last-used-'));
    store = createContentStore({ root, now: () => clock });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('records LAST USED, rewriting index.json only when the recorded time is a minute old', async () => {
    await store.putImage(record('r/a:1', sha256Of('1')));
    const t0 = new Date('2026-02-01T10:00:00.000Z');
    await store.markUsed('r/a:1', t0, 60_000);
    expect((await store.getImage('r/a:1'))?.lastUsedAt).toBe('2026-02-01T10:00:00.000Z');
    const written = (await stat(join(root, 'content/index.json'))).mtimeMs;
    await store.markUsed('r/a:1', new Date(t0.getTime() + 59_000), 60_000);
    expect((await store.getImage('r/a:1'))?.lastUsedAt).toBe('2026-02-01T10:00:00.000Z');
    expect((await stat(join(root, 'content/index.json'))).mtimeMs).toBe(written);
    await store.markUsed('r/a:1', new Date(t0.getTime() + 61_000), 60_000);
    expect((await store.getImage('r/a:1'))?.lastUsedAt).toBe('2026-02-01T10:01:01.000Z');
    await store.markUsed('r/missing:1', t0, 60_000); // an image removed meanwhile: nothing to do
    expect((await store.listImages()).map((r) => r.name)).toEqual(['r/a:1']);
  });

  it('a LAST USED ahead of the clock (written before NTP set a clock that ran ahead back) is rewritten at the next use, not frozen until the clock catches up', async () => {
    await store.putImage(record('r/a:1', sha256Of('1')));
    await store.markUsed('r/a:1', new Date('2031-05-01T10:00:00.000Z'), 60_000);
    await store.markUsed('r/a:1', new Date('2026-02-01T10:00:00.000Z'), 60_000);
    expect((await store.getImage('r/a:1'))?.lastUsedAt).toBe('2026-02-01T10:00:00.000Z');
  });

  it('keeps the digest a tag moves away from under registry/repo@digest only when asked', async () => {
    const [d1, d2, d3] = [sha256Of('1'), sha256Of('2'), sha256Of('3')];
    await store.putImage(record('r/app:1', d1));
    clock = new Date('2026-02-02T00:00:00.000Z');
    await store.putImage(record('r/app:1', d2), { keepPrevious: true });
    await store.putImage(record('r/app:1', d2), { keepPrevious: true }); // same digest: nothing kept twice
    await store.putImage(record('r/app:1', d3));
    const index = JSON.parse(await readFile(join(root, 'content/index.json'), 'utf8'));
    expect(
      index.manifests.map((m: { digest: string; annotations: Record<string, string> }) => [
        m.annotations['org.opencontainers.image.ref.name'],
        m.digest,
        m.annotations['berth.dev/previous-of'],
        m.annotations['berth.dev/replaced-at'],
      ]),
    ).toEqual([
      [`r/app@${d1}`, d1, 'r/app:1', '2026-02-02T00:00:00.000Z'],
      ['r/app:1', d3, undefined, undefined],
    ]);
  });
});
