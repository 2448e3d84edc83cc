import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type BootStamp, readBootStamp } from '../lib/boot-clock.js';
import { BerthError, errnoCode, unwritableStore } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { ownerToken } from '../lib/process.js';
import type { Descriptor } from '../oci/descriptor.js';
import { type Digest, digestAlgorithm, digestOf } from '../oci/digest.js';
import { fsyncDir } from './fsync.js';
import { cleanIngest, markReachable, storeBusy, sweepBlobs } from './gc.js';
import { imageNamed } from './image-names.js';
import {
  ensureLayout,
  entriesAfterPut,
  entryToRecord,
  readIndexFile,
  recordToEntry,
  writeIndexFile,
} from './index-file.js';
import { openIngestWriter } from './ingest.js';
import { liveWriterOf, parkDeadWriters } from './ingest-peers.js';
import { createLeaseFile, readLiveLeases } from './lease.js';
import { withStoreLock } from './lock.js';
import { blobPathIn, storePaths } from './paths.js';
import { ensureReserve, withReserve } from './reserve.js';
import type { ContentStore, GcResult, ImageRecord } from './types.js';

export interface ContentStoreOptions {
  root: string;
  now?: () => Date;
  /** This boot's id and time since boot (lib/boot-clock.ts), which ages parked partials. */
  bootClock?: () => BootStamp;
  pid?: number;
  sleep?: (ms: number) => Promise<void>;
  /** How long GC waits for pulls in progress before giving up (ERR_STORE_BUSY). */
  gcWaitMs?: number;
  lockTimeoutMs?: number;
}

export function createContentStore(options: ContentStoreOptions): ContentStore {
  const paths = storePaths(options.root);
  // Names of files this store writes carry it, so a later process can tell they are orphans.
  const owner = ownerToken(options.pid ?? process.pid);
  const now = options.now ?? (() => new Date());
  const bootClock = options.bootClock ?? readBootStamp;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const lockOpts = { timeoutMs: options.lockTimeoutMs ?? 60_000 };
  let layoutReady: Promise<void> | undefined;
  const ready = () => {
    layoutReady ??= ensureLayout(paths)
      .then(() => ensureReserve(options.root))
      .catch((err) => {
        layoutReady = undefined;
        throw new BerthError('ERR_STORE_UNWRITABLE', 'invalid', unwritableStore(options.root, err), {
          cause: err,
        });
      });
    return layoutReady;
  };
  const locked = <T>(fn: () => Promise<T>) => withStoreLock(options.root, fn, lockOpts);

  const size = async (digest: Digest): Promise<number | undefined> => {
    try {
      return (await stat(blobPathIn(paths, digest))).size;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  };
  const has = async (digest: Digest) => (await size(digest)) !== undefined;

  const readBlob = async (digest: Digest, maxBytes: number): Promise<Buffer> => {
    const n = await size(digest);
    if (n === undefined)
      throw new BerthError('ERR_BLOB_NOT_FOUND', 'not-found', `blob ${digest} is not in the store`);
    if (n > maxBytes)
      throw new BerthError('ERR_BLOB_TOO_LARGE', 'limit', `blob ${digest} is ${n} bytes (limit ${maxBytes})`);
    return readFile(blobPathIn(paths, digest));
  };

  const putBlob = async (desc: Descriptor, bytes: Uint8Array): Promise<void> => {
    await ready();
    if (bytes.length !== desc.size) {
      throw new BerthError(
        'ERR_SIZE_MISMATCH',
        'integrity',
        `blob ${desc.digest}: got ${bytes.length} bytes, expected ${desc.size}`,
      );
    }
    const actual = digestOf(digestAlgorithm(desc.digest), bytes);
    if (actual !== desc.digest) {
      throw new BerthError(
        'ERR_DIGEST_MISMATCH',
        'integrity',
        `blob ${desc.digest}: content has digest ${actual}`,
      );
    }
    if ((await size(desc.digest)) === desc.size) return; // one of another size is damaged: replaced
    const target = blobPathIn(paths, desc.digest);
    const tmp = join(
      paths.ingest,
      `${desc.digest.replace(':', '-')}.${owner}.${randomBytes(4).toString('hex')}.tmp`,
    );
    await makeDirs(paths.ingest);
    const h = await open(tmp, 'w');
    try {
      await h.writeFile(bytes);
      await h.sync();
    } finally {
      await h.close();
    }
    await makeDirs(dirname(target));
    try {
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await fsyncDir(dirname(target));
  };

  const listImages = async (): Promise<ImageRecord[]> => {
    const index = await readIndexFile(paths);
    return index.manifests.map(entryToRecord).filter((r): r is ImageRecord => r !== undefined);
  };

  const gc = async (alsoSweep?: () => Promise<void>): Promise<GcResult> => {
    await ready();
    const deadline = Date.now() + (options.gcWaitMs ?? 10 * 60_000);
    for (;;) {
      const result = await locked(async () => {
        const leases = await readLiveLeases(paths);
        if (leases.pids.length > 0) return leases.pids;
        await cleanIngest(paths, now(), bootClock());
        const keep = await markReachable(paths, readBlob, has);
        const swept = await sweepBlobs(paths, keep);
        await alsoSweep?.();
        return swept;
      });
      if (!Array.isArray(result)) return result;
      if (Date.now() > deadline) throw storeBusy(options.root, result);
      await sleep(200);
    }
  };

  return {
    root: options.root,
    has,
    size,
    blobPath: (digest) => blobPathIn(paths, digest),
    readBlob,
    putBlob,
    async openIngest(desc) {
      await ready();
      await parkDeadWriters(paths, desc.digest); // one killed while this process waited on it
      return openIngestWriter(paths, desc, owner);
    },
    liveWriter: (digest) => liveWriterOf(paths, digest),
    listImages,
    async getImage(name) {
      return imageNamed(await listImages(), name);
    },
    async putImage(record, putOptions = {}) {
      await ready();
      await locked(async () => {
        const index = await readIndexFile(paths);
        const manifests = entriesAfterPut(
          index.manifests,
          record,
          putOptions.keepPrevious === true,
          now().toISOString(),
        );
        await writeIndexFile(paths, { ...index, manifests }, owner);
      });
    },
    async markUsed(name, at, minIntervalMs) {
      // A time ahead of `at` was written before the clock went back: rewritten, never kept until the clock catches up.
      const since = (r: ImageRecord) => at.getTime() - Date.parse(r.lastUsedAt ?? '');
      const fresh = (r: ImageRecord | undefined) => !r || (since(r) >= 0 && since(r) < minIntervalMs);
      if (fresh((await listImages()).find((r) => r.name === name))) return; // read without the lock: the common case
      await ready();
      await locked(async () => {
        const index = await readIndexFile(paths);
        const i = index.manifests.findIndex((m) => entryToRecord(m)?.name === name);
        const r = i >= 0 ? entryToRecord(index.manifests[i] as Descriptor) : undefined;
        if (!r || fresh(r)) return;
        index.manifests[i] = recordToEntry({ ...r, lastUsedAt: at.toISOString() });
        await writeIndexFile(paths, index, owner);
      });
    },
    async removeImage(name) {
      await ready();
      return locked(async () => {
        const index = await readIndexFile(paths);
        const kept = index.manifests.filter((m) => entryToRecord(m)?.name !== name);
        if (kept.length === index.manifests.length) return false;
        await withReserve(options.root, `removing ${name}`, () =>
          writeIndexFile(paths, { ...index, manifests: kept }, owner),
        );
        return true;
      });
    },
    async createLease() {
      await ready();
      return locked(() => createLeaseFile(paths, owner));
    },
    gc,
    async cleanIngest() {
      await ready();
      await cleanIngest(paths, now(), bootClock());
    },
  };
}
