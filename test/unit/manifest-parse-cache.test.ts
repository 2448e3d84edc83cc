// The daemon's manifest parse cache (load.ts, read-file.ts) is broken on purpose: a file rewritten in
// place with content of the same size and its modification time put back (what a second write within
// one tick of the file system's clock leaves) must be read again, never served from the cache.
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PodManifest } from '../../src/manifest/kinds.js';
import { loadManifests, type ParseCache } from '../../src/manifest/load.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-parse-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Whole seconds: the same modification time after every write, as a coarse clock leaves it. */
const MTIME = Math.floor(Date.now() / 1000) - 1;

const pod = (image: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: main\n      image: ${image}\n`;

async function imageOf(cache: ParseCache, unchanged?: (file: string) => boolean): Promise<string> {
  const { docs, diagnostics } = await loadManifests(dir, { cache, ...(unchanged ? { unchanged } : {}) });
  expect(diagnostics).toEqual([]);
  expect(docs).toHaveLength(1);
  return (docs[0]?.doc as PodManifest | undefined)?.spec.containers[0]?.image ?? '';
}

describe('manifest parse cache', () => {
  it('reads again a file rewritten in place with the same size and modification time', async () => {
    const file = join(dir, 'web.yaml');
    await writeFile(file, pod('busybox:1.36'));
    await utimes(file, MTIME, MTIME);
    const cache: ParseCache = new Map();
    expect(await imageOf(cache)).toBe('busybox:1.36');
    const before = await stat(file, { bigint: true });
    await writeFile(file, pod('busybox:1.37')); // same inode, same size
    await utimes(file, MTIME, MTIME);
    const after = await stat(file, { bigint: true });
    expect([after.ino, after.size, after.mtimeNs]).toEqual([before.ino, before.size, before.mtimeNs]);
    expect(await imageOf(cache)).toBe('busybox:1.37');
  });

  it('keeps reading a recently changed file until it has aged, then sees each new content', async () => {
    const file = join(dir, 'web.yaml');
    const cache: ParseCache = new Map();
    for (const tag of ['1.31', '1.32', '1.33', '1.34']) {
      await writeFile(file, pod(`busybox:${tag}`));
      await utimes(file, MTIME, MTIME);
      expect(await imageOf(cache)).toBe(`busybox:${tag}`);
      expect(await imageOf(cache)).toBe(`busybox:${tag}`); // a second pass: the same content
    }
  });

  it('a scoped pass takes an unnamed file as last read; a named one, or one unreadable since, is read again', async () => {
    const file = join(dir, 'web.yaml');
    await writeFile(file, pod('busybox:1.36'));
    const cache: ParseCache = new Map();
    const others = (f: string) => f !== file;
    const noneNamed = () => true;
    expect(await imageOf(cache, noneNamed)).toBe('busybox:1.36'); // nothing cached yet: read
    await writeFile(file, pod('busybox:1.370')); // no trigger named it (a missed event)
    expect(await imageOf(cache, noneNamed)).toBe('busybox:1.36'); // until a full pass…
    expect(await imageOf(cache)).toBe('busybox:1.370'); // …which reads it
    await writeFile(file, pod('busybox:1.38'));
    expect(await imageOf(cache, others)).toBe('busybox:1.38'); // named: read again
    // Unreadable once (a directory in its place), then back: an unnamed pass does not take the old
    // read for it.
    await rm(file);
    await mkdir(file);
    const broken = await loadManifests(dir, { cache, unchanged: others });
    expect(broken.diagnostics.map((d) => d.code)).toEqual(['ERR_MANIFEST_UNREADABLE']);
    await rm(file, { recursive: true });
    await writeFile(file, pod('busybox:1.39'));
    expect(await imageOf(cache, noneNamed)).toBe('busybox:1.39');
  });
});
