// /metrics' content-store bytes: walked once while the store is unchanged, walked again when a blob
// is added or removed (by any process), when a directory changed within a clock tick of the last
// walk, and after the TTL. The walk is the real treeBytes; the test only counts its calls.
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHostMetrics, treeBytes } from '../../src/events/host-metrics.js';
import { createStoreBytes, STORE_BYTES_TTL_MS } from '../../src/events/store-bytes.js';
import { RACY_MS } from '../../src/lib/file-cache.js';

let root: string;
let blobs: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-store-bytes-'));
  blobs = join(root, 'content', 'blobs');
  await mkdir(join(blobs, 'sha256'), { recursive: true });
  await writeFile(join(blobs, 'sha256', 'a'.repeat(64)), Buffer.alloc(1000));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A clock `ahead` ms past the real one: what was just written has aged (not racy) by then. */
function counted(ahead: number) {
  const clock = { ahead };
  let walks = 0;
  const store = createStoreBytes({
    dir: blobs,
    now: () => Date.now() + clock.ahead,
    walk: (dir) => {
      walks++;
      return treeBytes(dir);
    },
  });
  return { store, clock, walks: () => walks };
}

describe('content store bytes for /metrics', () => {
  it('walks an unchanged store once, through host metrics too', async () => {
    const { store, walks } = counted(RACY_MS + 1000);
    expect(await store.bytes()).toBe(1000);
    expect(await store.bytes()).toBe(1000);
    expect(await store.bytes()).toBe(1000);
    expect(walks()).toBe(1);

    const walked: string[] = [];
    const host = createHostMetrics({
      root,
      now: () => Date.now() + RACY_MS + 1000,
      walk: (dir) => {
        walked.push(dir);
        return treeBytes(dir);
      },
    });
    const value = async () =>
      (await host.families()).find((f) => f.name === 'berth_content_store_bytes')?.samples[0]?.value;
    expect(await value()).toBe(1000);
    expect(await value()).toBe(1000);
    expect(walked.filter((d) => d === blobs)).toHaveLength(1);
  });

  it('sees a blob added or removed at once, even within the same clock tick', async () => {
    const { store, walks } = counted(RACY_MS + 1000);
    expect(await store.bytes()).toBe(1000);
    await writeFile(join(blobs, 'sha256', 'b'.repeat(64)), Buffer.alloc(500));
    expect(await store.bytes()).toBe(1500);
    await rm(join(blobs, 'sha256', 'a'.repeat(64)));
    expect(await store.bytes()).toBe(500);
    await mkdir(join(blobs, 'sha512'));
    await writeFile(join(blobs, 'sha512', 'c'.repeat(128)), Buffer.alloc(7));
    expect(await store.bytes()).toBe(507);
    expect(walks()).toBe(4);
  });

  it('walks again while a directory changed too recently to vouch for the walk', async () => {
    const { store, walks } = counted(0); // the real clock: the directories were changed just now
    expect(await store.bytes()).toBe(1000);
    // A blob truncated in place changes no directory: only the racy rule (and the TTL) catch it.
    await truncate(join(blobs, 'sha256', 'a'.repeat(64)), 10);
    expect(await store.bytes()).toBe(10);
    expect(walks()).toBe(2);
  });

  it('walks again once the TTL has passed', async () => {
    const { store, clock, walks } = counted(RACY_MS + 1000);
    expect(await store.bytes()).toBe(1000);
    await truncate(join(blobs, 'sha256', 'a'.repeat(64)), 10);
    expect(await store.bytes()).toBe(1000); // vouched for by the directories: a change behind berth
    clock.ahead += STORE_BYTES_TTL_MS;
    expect(await store.bytes()).toBe(10);
    expect(walks()).toBe(2);
  });

  it('follows no symlink, and a store that is missing or a file counts nothing', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'berth-store-bytes-outside-'));
    try {
      await writeFile(join(outside, 'big'), Buffer.alloc(5000));
      await symlink(outside, join(blobs, 'sha384'));
      const { store } = counted(RACY_MS + 1000);
      expect(await store.bytes()).toBe(1000);
      await rm(blobs, { recursive: true });
      expect(await store.bytes()).toBe(0);
      await writeFile(blobs, Buffer.alloc(300));
      expect(await store.bytes()).toBe(0);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
