// A file read to its end but never past a bound (lib/read-bounded.ts): the manifest reader and the
// unread-files notice checked a size before reading and then read whatever the file had grown to
// (a folder writer toggling `truncate -s 2G` could have the daemon allocate gigabytes).
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBounded } from '../../src/lib/read-bounded.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-read-bounded-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readOf(bytes: Buffer, max: number): Promise<Buffer | undefined> {
  const file = join(dir, `f-${bytes.length}-${max}`);
  await writeFile(file, bytes);
  const fh = await open(file, 'r');
  try {
    return await readBounded(fh, max);
  } finally {
    await fh.close();
  }
}

describe('readBounded', () => {
  it('reads a file up to the bound whole, across chunks', async () => {
    const bytes = Buffer.alloc(200 * 1024, 'x');
    expect((await readOf(bytes, bytes.length))?.equals(bytes)).toBe(true);
    expect((await readOf(Buffer.from('ab'), 10))?.toString()).toBe('ab');
    expect((await readOf(Buffer.alloc(0), 10))?.length).toBe(0);
  });

  it('gives up one byte past the bound, however large the file (a sparse 2 GiB here)', async () => {
    expect(await readOf(Buffer.alloc(11, 'y'), 10)).toBeUndefined();
    const file = join(dir, 'sparse');
    const fh = await open(file, 'w+');
    try {
      await fh.truncate(2 * 2 ** 30);
      expect(await readBounded(fh, 1024 * 1024)).toBeUndefined();
    } finally {
      await fh.close();
    }
  });
});
