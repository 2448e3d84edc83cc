// Layers through the real worker entry (dist/cli/unpack-worker.mjs, built by the global setup):
// this thread decompresses and verifies, a pooled worker thread creates the files.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBerthError } from '../../src/lib/errors.js';
import { MediaType } from '../../src/oci/media-types.js';
import { createWorkerRunner } from '../../src/snapshot/apply-thread.js';
import { sha256 } from '../helpers/hostile-registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const WORKER = new URL('../../dist/cli/unpack-worker.mjs', import.meta.url);
let work: string;
let blob: string;
let diffId: string;
let rawSize: number;

async function tarOf(
  entries: Array<{ name: string; body?: string; type?: 'file' | 'link'; linkname?: string }>,
) {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries)
    pack.entry({ name: e.name, mode: 0o644, type: e.type ?? 'file', linkname: e.linkname }, e.body ?? '');
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

let hostileBlob: string;
let hostileDiffId: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-worker-'));
  const raw = await tarOf([{ name: 'hello.txt', body: 'from a worker thread' }]);
  diffId = sha256(raw);
  rawSize = raw.length;
  blob = join(work, 'layer.tar.gz');
  await writeFile(blob, gzipSync(raw));
  // A hardlink to nothing: refused by the worker while it creates files.
  const hostile = await tarOf([{ name: 'alias', type: 'link', linkname: 'missing' }]);
  hostileDiffId = sha256(hostile);
  hostileBlob = join(work, 'hostile.tar.gz');
  await writeFile(hostileBlob, gzipSync(hostile));
});
afterAll(async () => {
  await removeTempRoot(work);
});

const job = (dest: string, wantDiffId: string) => ({
  blobPath: blob,
  mediaType: MediaType.ociLayerGzip,
  digest: 'sha256:test',
  diffId: wantDiffId,
  dest,
  mode: 'overlay' as const,
  maxBytes: 1 << 20,
  reserveBytes: 0,
  preserveOwnership: false,
});

describe('unpack worker threads', () => {
  it('unpack a layer and report its uncompressed size', async () => {
    const dest = join(work, 'ok');
    await mkdir(dest);
    const size = await createWorkerRunner(WORKER)(job(dest, diffId));
    expect(size).toBe(rawSize);
    expect(await readFile(join(dest, 'hello.txt'), 'utf8')).toBe('from a worker thread');
  });

  it('carry a coded error back across the thread, then serve the next layer with a fresh one', async () => {
    const run = createWorkerRunner(WORKER);
    const bad = join(work, 'bad');
    await mkdir(bad);
    const err = await run({ ...job(bad, hostileDiffId), blobPath: hostileBlob, mode: 'native' }).catch(
      (e: unknown) => e,
    );
    expect(isBerthError(err) && [err.code, err.kind]).toEqual(['ERR_LAYER_UNSAFE', 'integrity']);
    expect((err as Error).message).toContain('entry alias: a hardlink to missing, which does not exist');
    const next = join(work, 'after-error');
    await mkdir(next);
    expect(await run(job(next, diffId))).toBe(rawSize);
    expect(await readFile(join(next, 'hello.txt'), 'utf8')).toBe('from a worker thread');
  });

  it('serve several layers at once and one after another from the same pool', async () => {
    const run = createWorkerRunner(WORKER);
    run.warm();
    const dests = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const d = join(work, `many-${i}`);
        await mkdir(d);
        return d;
      }),
    );
    expect(await Promise.all(dests.slice(0, 3).map((d) => run(job(d, diffId))))).toEqual([
      rawSize,
      rawSize,
      rawSize,
    ]);
    for (const d of dests.slice(3)) expect(await run(job(d, diffId))).toBe(rawSize);
    for (const d of dests) expect(await readFile(join(d, 'hello.txt'), 'utf8')).toBe('from a worker thread');
  });
});
