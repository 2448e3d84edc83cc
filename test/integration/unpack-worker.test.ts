// Regression: the unpack worker threads were built but never used by `image pull`. These tests run
// layers through the real worker entry (dist/cli/unpack-worker.mjs, built by the global setup).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBerthError } from '../../src/lib/errors.js';
import { MediaType } from '../../src/oci/media-types.js';
import { createWorkerRunner } from '../../src/snapshot/apply-thread.js';
import { sha256 } from '../helpers/hostile-registry.js';

const WORKER = new URL('../../dist/cli/unpack-worker.mjs', import.meta.url);
let work: string;
let blob: string;
let diffId: string;
let rawSize: number;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-worker-'));
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  pack.entry({ name: 'hello.txt', mode: 0o644 }, 'from a worker thread');
  pack.finalize();
  await done;
  const raw = Buffer.concat(chunks);
  diffId = sha256(raw);
  rawSize = raw.length;
  blob = join(work, 'layer.tar.gz');
  await writeFile(blob, gzipSync(raw));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
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

  it('carry a coded error back across the thread', async () => {
    const dest = join(work, 'bad');
    await mkdir(dest);
    const err = await createWorkerRunner(WORKER)(job(dest, sha256('other'))).catch((e: unknown) => e);
    expect(isBerthError(err) && [err.code, err.kind]).toEqual(['ERR_DIFFID_MISMATCH', 'integrity']);
    expect((err as Error).message).toContain(`config says ${sha256('other')}`);
  });
});
