// The content store on a real filesystem, with real child processes for the cross-process cases.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireStoreLock, createContentStore } from '../../src/content/index.js';
import type { ContentStore, ImageRecord } from '../../src/content/types.js';
import { hasCode, isBerthError } from '../../src/lib/errors.js';
import { bootId, ownerToken, processStartTime } from '../../src/lib/process.js';
import type { Descriptor } from '../../src/oci/descriptor.js';
import { type Digest, digestHex, sha256Of } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { createSnapshotStore } from '../../src/snapshot/snapshot-store.js';

const DIST_CONTENT = fileURLToPath(new URL('../../dist/content/index.js', import.meta.url));
let root: string;
let store: ContentStore;
const children: ChildProcess[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-store-'));
  store = createContentStore({ root, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 10))) });
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

const blob = (text: string, mediaType: string = MediaType.ociLayerGzip): [Descriptor, Buffer] => {
  const bytes = Buffer.from(text);
  return [{ mediaType, digest: sha256Of(bytes), size: bytes.length }, bytes];
};
const listBlobs = async () => (await readdir(join(root, 'content/blobs/sha256')).catch(() => [])).sort();
const listIngest = async () =>
  (await readdir(join(root, 'ingest'))).filter((n) => n !== 'leases' && !n.endsWith('.stamp')).sort();

/** A pid that certainly belongs to no running process: a child that has exited. */
function deadPid(): number {
  return spawnSync('true').pid as number;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return isBerthError(err) ? err.code : String(err);
  }
}

describe('ingest', () => {
  it('commits verified content and nothing else', async () => {
    const [desc, bytes] = blob('hello layer');
    const w = await store.openIngest(desc);
    await w.write(bytes);
    await w.commit();
    expect(await store.has(desc.digest)).toBe(true);
    expect((await store.readBlob(desc.digest, 100)).toString()).toBe('hello layer');
    expect(await listIngest()).toEqual([]);
  });

  it('refuses content with the wrong digest and leaves no trace', async () => {
    const [desc] = blob('the real content');
    const w = await store.openIngest(desc);
    await w.write(Buffer.from('a fake   content'));
    expect(await codeOf(w.commit())).toBe('ERR_DIGEST_MISMATCH');
    expect(await listBlobs()).toEqual([]);
    expect(await listIngest()).toEqual([]);
  });

  it('refuses short content and writes past the declared size', async () => {
    const [desc, bytes] = blob('0123456789');
    const short = await store.openIngest(desc);
    await short.write(bytes.subarray(0, 5));
    expect(await codeOf(short.commit())).toBe('ERR_SIZE_MISMATCH');
    const long = await store.openIngest(desc);
    expect(() => long.write(Buffer.from('0123456789AB'))).toThrow(
      expect.objectContaining({
        code: 'ERR_SIZE_MISMATCH',
        message: `blob ${desc.digest} is larger than its declared 10 bytes`,
      }),
    );
    await long.abort(false);
    expect(await listBlobs()).toEqual([]);
  });

  it('resumes a parked partial, continuing the hash', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 3);
    data.write('unique', 1000);
    const desc: Descriptor = { mediaType: MediaType.ociLayer, digest: sha256Of(data), size: data.length };
    const first = await store.openIngest(desc);
    await first.write(data.subarray(0, 2_000_000));
    await first.abort(true);
    expect(await listIngest()).toEqual([`sha256-${digestHex(desc.digest)}.partial`]);
    const second = await store.openIngest(desc);
    expect(second.offset).toBe(2_000_000);
    await second.write(data.subarray(2_000_000));
    await second.commit();
    expect((await store.readBlob(desc.digest, data.length)).equals(data)).toBe(true);
  });

  it('parks the download of a writer that died, and the next one resumes it', async () => {
    const [desc, bytes] = blob('x'.repeat(1000));
    await mkdir(join(root, 'ingest'), { recursive: true });
    const orphan = join(root, 'ingest', `sha256-${digestHex(desc.digest)}.${deadPid()}.abcd1234.active`);
    await writeFile(orphan, bytes.subarray(0, 400));
    await store.cleanIngest();
    const w = await store.openIngest(desc);
    expect(w.offset).toBe(400);
    await w.write(bytes.subarray(400));
    await w.commit();
    expect(await listIngest()).toEqual([]);
  });

  it("removes a dead importer's expanded archive, never a live one's", async () => {
    await mkdir(join(root, 'ingest'), { recursive: true });
    const dead = join(root, 'ingest', `import-${deadPid()}-0123abcd.tar`);
    const live = join(root, 'ingest', `import-${process.pid}-0123abcd.tar`);
    await writeFile(dead, 'expanded archive');
    await writeFile(live, 'expanded archive');
    await store.cleanIngest();
    expect((await listIngest()).sort()).toEqual([`import-${process.pid}-0123abcd.tar`]);
    await rm(live);
  });

  it('lets two writers of one blob race: both commit, one blob results', async () => {
    const [desc, bytes] = blob('raced content');
    const [a, b] = await Promise.all([store.openIngest(desc), store.openIngest(desc)]);
    await Promise.all([a.write(bytes), b.write(bytes)]);
    await Promise.all([a.commit(), b.commit()]);
    expect(await listBlobs()).toEqual([digestHex(desc.digest)]);
  });

  it('putBlob verifies in memory', async () => {
    const [desc, bytes] = blob('{"a":1}', MediaType.ociConfig);
    expect(await codeOf(store.putBlob({ ...desc, digest: sha256Of('other') }, bytes))).toBe(
      'ERR_DIGEST_MISMATCH',
    );
    await store.putBlob(desc, bytes);
    await store.putBlob(desc, bytes);
    expect(await listBlobs()).toEqual([digestHex(desc.digest)]);
  });

  it('rejects a malformed digest before building a path from it', async () => {
    expect(() => store.blobPath('sha256:../../etc/passwd' as Digest)).toThrow(
      expect.objectContaining({
        code: 'ERR_DIGEST_INVALID',
        message: 'invalid digest "sha256:../../etc/passwd"',
      }),
    );
  });
});

function record(name: string, digest: Digest): ImageRecord {
  return {
    name,
    target: { mediaType: MediaType.ociManifest, digest, size: 1 },
    repoDigest: digest,
    pulledAt: '2026-01-01T00:00:00.000Z',
  };
}

describe('index.json', () => {
  it('adds, replaces, lists and removes images', async () => {
    await store.putImage(record('r/a:1', sha256Of('1')));
    await store.putImage(record('r/b:1', sha256Of('2')));
    await store.putImage(record('r/a:1', sha256Of('3')));
    expect((await store.listImages()).map((r) => [r.name, r.target.digest])).toEqual([
      ['r/b:1', sha256Of('2')],
      ['r/a:1', sha256Of('3')],
    ]);
    expect(await store.removeImage('r/a:1')).toBe(true);
    expect(await store.removeImage('r/a:1')).toBe(false);
    expect((await store.listImages()).map((r) => r.name)).toEqual(['r/b:1']);
    expect(await readFile(join(root, 'content/oci-layout'), 'utf8')).toBe('{"imageLayoutVersion":"1.0.0"}\n');
  });

  it('loses no update when writers race in one process and across processes', async () => {
    const script = join(root, 'writer.mjs');
    await writeFile(
      script,
      `import { createContentStore } from ${JSON.stringify(DIST_CONTENT)};
       import { createHash } from 'node:crypto';
       const [root, prefix] = process.argv.slice(2);
       const store = createContentStore({ root });
       await Promise.all(Array.from({ length: 15 }, (_, i) => store.putImage({
         name: prefix + i, repoDigest: 'sha256:' + createHash('sha256').update(prefix + i).digest('hex'),
         target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1,
           digest: 'sha256:' + createHash('sha256').update(prefix + i).digest('hex') },
         pulledAt: new Date().toISOString() })));`,
    );
    const child = (prefix: string) =>
      new Promise<number | null>((resolve) => {
        const c = spawn(process.execPath, [script, root, prefix], { stdio: 'inherit' });
        children.push(c);
        c.on('exit', resolve);
      });
    const local = Promise.all(
      Array.from({ length: 15 }, (_, i) => store.putImage(record(`local${i}`, sha256Of(`l${i}`)))),
    );
    const [codeA, codeB] = await Promise.all([child('childA'), child('childB'), local]);
    expect([codeA, codeB]).toEqual([0, 0]);
    const names = (await store.listImages()).map((r) => r.name);
    expect(names).toHaveLength(45);
    expect(JSON.parse(await readFile(join(root, 'content/index.json'), 'utf8')).manifests).toHaveLength(45);
  });

  it('reports a corrupt index.json by path', async () => {
    await store.putImage(record('r/a:1', sha256Of('1')));
    await writeFile(join(root, 'content/index.json'), '{"manifests": [');
    const err = await store.listImages().catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_STORE_CORRUPT')).toBe(true);
    expect((err as Error).message).toContain(join(root, 'content/index.json'));
  });
});

describe('store lock', () => {
  it('is held across processes and released when its holder is killed with SIGKILL', async () => {
    const script = join(root, 'holder.mjs');
    await writeFile(
      script,
      `import { acquireStoreLock } from ${JSON.stringify(DIST_CONTENT)};
       await acquireStoreLock(process.argv[2]);
       console.log('locked');
       setInterval(() => {}, 1000);`,
    );
    const holder = spawn(process.execPath, [script, root], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(holder);
    await new Promise<void>((resolve) => holder.stdout?.once('data', () => resolve()));
    const err = await acquireStoreLock(root, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_STORE_LOCKED')).toBe(true);
    const exited = new Promise((r) => holder.once('exit', r));
    holder.kill('SIGKILL');
    await exited;
    const lock = await acquireStoreLock(root, { timeoutMs: 2000 });
    await lock.release();
  });

  it('serialises holders in different processes: no two hold it at once', async () => {
    const script = join(root, 'contender.mjs');
    const log = join(root, 'log');
    await writeFile(
      script,
      `import { appendFileSync } from 'node:fs';
       import { acquireStoreLock } from ${JSON.stringify(DIST_CONTENT)};
       for (let i = 0; i < 5; i++) {
         const lock = await acquireStoreLock(process.argv[2]);
         appendFileSync(process.argv[3], 'in\\n');
         // Give another process every chance to get in while this one holds the lock.
         for (let j = 0; j < 20; j++) await new Promise((r) => setImmediate(r));
         appendFileSync(process.argv[3], 'out\\n');
         await lock.release();
       }`,
    );
    const runs = [0, 1, 2].map(() => {
      const c = spawn(process.execPath, [script, root, log], { stdio: ['ignore', 'inherit', 'inherit'] });
      children.push(c);
      return new Promise((r) => c.once('exit', r));
    });
    expect(await Promise.all(runs)).toEqual([0, 0, 0]);
    expect(await readFile(log, 'utf8')).toBe('in\nout\n'.repeat(15));
  });

  it('lives in a directory only its owner can enter; a loose one is tightened, a symlink refused', async () => {
    const lock = await acquireStoreLock(root, { timeoutMs: 200 });
    await lock.release();
    expect((await stat(join(root, 'locks'))).mode & 0o7777).toBe(0o700);
    await chmod(join(root, 'locks'), 0o777);
    await (await acquireStoreLock(root, { timeoutMs: 200 })).release();
    expect((await stat(join(root, 'locks'))).mode & 0o7777).toBe(0o700);
    await rm(join(root, 'locks'), { recursive: true });
    await mkdir(join(root, 'elsewhere'));
    await symlink(join(root, 'elsewhere'), join(root, 'locks'));
    await expect(acquireStoreLock(root, { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'ERR_UNSAFE_DIR',
      kind: 'forbidden',
      message: `${join(root, 'locks')} must be a directory owned by uid ${process.geteuid?.()}; it is a symlink`,
    });
    expect(await readdir(join(root, 'elsewhere'))).toEqual([]);
  });

  it('writes nothing to take or hold it: no journal beside the lock file, which stays empty', async () => {
    const lock = await acquireStoreLock(root, { timeoutMs: 200 });
    try {
      expect(await readdir(join(root, 'locks'))).toEqual(['store.lock']);
      expect((await stat(join(root, 'locks/store.lock'))).size).toBe(0);
    } finally {
      await lock.release();
    }
  });

  it.skipIf(process.geteuid?.() !== 0)(
    'on a file system with no room for the lock file: ERR_NO_SPACE, not a hint to remove it',
    async () => {
      const fs = join(root, 'fs');
      await mkdir(fs);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,nr_inodes=4,mode=0700', 'tmpfs', fs]);
      try {
        await mkdir(join(fs, 'locks'), { mode: 0o700 });
        for (let i = 0; ; i++) {
          const made = await writeFile(join(fs, `f${i}`), '').then(
            () => true,
            () => false,
          );
          if (!made) break;
        }
        const err = await acquireStoreLock(fs, { timeoutMs: 200 }).catch((e: unknown) => e);
        expect(err).toMatchObject({
          code: 'ERR_NO_SPACE',
          kind: 'limit',
          message: `cannot lock ${join(fs, 'locks/store.lock')}: the file system is full`,
        });
        expect((err as { hint?: string }).hint).toBeUndefined();
      } finally {
        execFileSync('umount', [fs]);
      }
    },
  );

  it('a lock file berth did not write is one clear error, not a hang or a second holder', async () => {
    await mkdir(join(root, 'locks'), { mode: 0o700 });
    await writeFile(join(root, 'locks/store.lock'), Buffer.alloc(4096, 7));
    await expect(acquireStoreLock(root, { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'ERR_LOCK_FILE',
      kind: 'internal',
      message: `cannot lock ${join(root, 'locks/store.lock')}: file is not a database`,
      hint: 'it holds no data: remove it while no berth process runs',
    });
  });
});

describe('garbage collection', () => {
  async function putManifest(config: Descriptor, layers: Descriptor[]): Promise<Descriptor> {
    const [desc, bytes] = blob(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers }),
      MediaType.ociManifest,
    );
    await store.putBlob(desc, bytes);
    return desc;
  }

  async function put(text: string, mediaType?: string): Promise<Descriptor> {
    const [desc, bytes] = blob(text, mediaType);
    await store.putBlob(desc, bytes);
    return desc;
  }

  it('keeps what images reach (through indexes too) and removes the rest', async () => {
    const config = await put('{"rootfs":{"diff_ids":[]}}', MediaType.ociConfig);
    const shared = await put('shared layer');
    const own = await put('own layer');
    const orphan = await put('orphan layer');
    const m1 = await putManifest(config, [shared]);
    const m2 = await putManifest(config, [shared, own]);
    const [indexDesc, indexBytes] = blob(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [m2] }),
      MediaType.ociIndex,
    );
    await store.putBlob(indexDesc, indexBytes);
    await store.putImage(record('r/one:1', m1.digest));
    await store.putImage({ ...record('r/two:1', m2.digest), repoDigest: indexDesc.digest });
    const result = await store.gc();
    expect(result.removedBlobs).toEqual([orphan.digest]);
    expect(result.freedBytes).toBe(orphan.size);
    await store.removeImage('r/two:1');
    const second = await store.gc();
    expect(second.removedBlobs.sort()).toEqual([own.digest, m2.digest, indexDesc.digest].sort());
    expect(await store.has(shared.digest)).toBe(true);
  });

  it('waits for a live lease, and ignores the lease of a dead process', async () => {
    const layer = await put('leased layer');
    const lease = await store.createLease();
    await lease.add(layer.digest);
    const busy = createContentStore({
      root,
      gcWaitMs: 100,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    });
    const refused = await busy.gc().catch((e: Error & { code?: string }) => e);
    expect([(refused as { code?: string }).code, (refused as Error).message]).toEqual([
      'ERR_STORE_BUSY',
      `store ${root} is in use by pulls in progress (pid ${process.pid})`,
    ]);
    expect(await store.has(layer.digest)).toBe(true);
    await lease.release();
    await writeFile(join(root, 'ingest/leases', `${deadPid()}-0000abcd.lease`), `${layer.digest}\n`);
    expect((await busy.gc()).removedBlobs).toEqual([layer.digest]);
    expect(await readdir(join(root, 'ingest/leases'))).toEqual([]);
  });

  it('a lease, ingest file or snapshot temp dir whose pid now belongs to another process is not alive', async () => {
    // After a reboot the pid berth had is some other process's (here: this test's own, alive).
    const start = processStartTime(process.pid) as string;
    const otherBoot = bootId() === '00000000' ? '11111111' : '00000000';
    const beforeReboot = `${process.pid}-${start}-${otherBoot}`;
    const pidReused = `${process.pid}-${Number(start) + 1}-${bootId()}`;
    expect(ownerToken(process.pid)).toBe(`${process.pid}-${start}-${bootId()}`);
    const layer = await put('leased layer');
    await writeFile(join(root, 'ingest/leases', `${beforeReboot}-0000abcd.lease`), `${layer.digest}\n`);
    await writeFile(join(root, 'ingest/leases', `${pidReused}-0000abce.lease`), `${layer.digest}\n`);
    const [desc, bytes] = blob('y'.repeat(100));
    const active = join(root, 'ingest', `sha256-${digestHex(desc.digest)}.${beforeReboot}.abcd1234.active`);
    await writeFile(active, bytes.subarray(0, 40));
    const snapshots = createSnapshotStore(root, 'overlay');
    const tmp = join(root, 'snapshots', `.tmp-${'a'.repeat(64)}.${pidReused}.abcd1234`);
    await mkdir(join(tmp, 'fs'), { recursive: true });
    const live = join(root, 'snapshots', `.tmp-${'b'.repeat(64)}.${ownerToken(process.pid)}.abcd1234`);
    await mkdir(live);
    expect((await store.gc()).removedBlobs).toEqual([layer.digest]);
    expect(await readdir(join(root, 'ingest/leases'))).toEqual([]);
    expect(await listIngest()).toEqual([`sha256-${digestHex(desc.digest)}.partial`]); // parked, resumable
    await snapshots.clean();
    expect(await readdir(join(root, 'snapshots'))).toEqual([
      `.tmp-${'b'.repeat(64)}.${ownerToken(process.pid)}.abcd1234`,
    ]);
  });
});
