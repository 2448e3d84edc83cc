// Making sure every layer of an image has its snapshot: missing ones are unpacked into temp
// directories and published by rename; present ones are shared as they are. In overlay form
// several layers unpack at once (layer directories do not depend on each other); in native form
// a snapshot starts as a copy of its parent's tree, so each waits for the one below. A pull hands each layer over as
// soon as its download starts: the layer unpacks from the growing ingest file, and its snapshot is
// published only once the blob is verified and committed. A layer with a hardlink into a lower
// layer, or one that made a directory where the lower snapshots show a symlink or a file (lower-view.ts),
// unpacks again, from the committed blob, once the lower snapshots exist.
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ContentStore } from '../content/types.js';
import { BerthError, errnoCode, hasCode } from '../lib/errors.js';
import { createSemaphore } from '../lib/semaphore.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import type { ImageConfig } from '../oci/image.js';
import { chainIds } from './chain.js';
import { copyTree } from './copy-tree.js';
import { inheritDirMeta } from './inherit-dirs.js';
import { mayMeetLowerEntry } from './lower-view.js';
import type { SnapshotInfo, SnapshotStore } from './snapshot-store.js';
import { type ImageBudget, runUnpackJob, type UnpackLimits, type UnpackRunner } from './unpack-image.js';
import { imageTooLarge } from './verify-stream.js';

export type UnpackEvent = {
  type: 'unpacked';
  digest: Digest;
  chainId: Digest;
  size: number;
  existed: boolean;
};

export interface EnsureResult {
  chainIds: Digest[];
  unpacked: number;
  /** Uncompressed size of the whole image. */
  size: number;
}

export interface EnsureDeps {
  store: ContentStore;
  snapshots: SnapshotStore;
  now: () => Date;
  /** The image's name, for messages. */
  image?: string;
  /** Where layers unpack: worker threads in the CLI; in-process by default. */
  run?: UnpackRunner;
  concurrency?: number;
}

/** A layer blob still downloading. */
export interface LayerFeed {
  /** The ingest file and its shared progress. */
  path: string;
  progress: SharedArrayBuffer;
  /** Settles when the blob is committed (or its download failed). */
  stored: Promise<void>;
}

export interface Snapshotter {
  /**
   * Unpack layer `i` unless its snapshot exists: from the store, or from `feed` while it downloads.
   */
  layer(i: number, layer: Descriptor, feed?: LayerFeed): Promise<void>;
  /** After every layer: sizes (the image-wide bound is enforced while layers unpack). */
  result(): EnsureResult;
  /** Some layers will never be handed over (a download failed): release whoever waits for them. */
  abort(reason: unknown): void;
}

/** The native form's starting point, with an error line that names the layer, not temp paths. */
async function copyParent(parent: string, dest: string, what: string): Promise<void> {
  try {
    await copyTree(parent, dest);
  } catch (err) {
    if (!(err instanceof BerthError)) throw err;
    const said = err.message.split(`${dest}/`).join('/').split(`${parent}/`).join('/');
    throw new BerthError(
      err.code,
      err.kind,
      `${what}: ${said.replace(/^copying snapshot .*? to .*?: /, 'copying the parent snapshot: ')}`,
      {
        cause: err,
      },
    );
  }
}

function deferred(): { promise: Promise<void>; resolve(): void; reject(err: unknown): void } {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // observed by whoever waits on it
  return { promise, resolve, reject };
}

export async function createSnapshotter(
  deps: EnsureDeps,
  config: ImageConfig,
  limits: UnpackLimits,
  onEvent?: (e: UnpackEvent) => void,
): Promise<Snapshotter> {
  await deps.snapshots.clean(); // temp directories of unpacks that were killed
  const ids = chainIds(config.rootfs.diff_ids);
  const preserveOwnership = process.getuid?.() === 0;
  const run = deps.run ?? runUnpackJob;
  const native = deps.snapshots.form === 'native';
  const slot = createSemaphore(deps.concurrency ?? 1);
  const infos: SnapshotInfo[] = [];
  const budget: ImageBudget = { used: 0, max: limits.maxImageBytes };
  const ready = ids.map(() => deferred());
  let unpacked = 0;
  const layerName = (layer: Descriptor) => `layer ${layer.digest}${deps.image ? ` of ${deps.image}` : ''}`;

  /** The snapshot directories below layer i, top first (overlay form's lowerdir order). */
  const lowersOf = (i: number) =>
    ids
      .slice(0, i)
      .reverse()
      .map((id) => deps.snapshots.fsPath(id));

  /** A layer unpacked into its temp directory, not yet published. */
  interface Unpacked {
    i: number;
    layer: Descriptor;
    target: Awaited<ReturnType<SnapshotStore['prepare']>>;
    size: number;
    /** Directories it made only as parents (inherit-dirs.ts). */
    implicit: Buffer[];
    /** Unpacked without its lowers: every directory it made as a parent (lower-view.ts). */
    parents: Buffer[];
  }

  /**
   * Unpack layer i into a fresh temp directory (published by `publish`, outside the slot); from
   * `feed` while it downloads; `lowers` for hardlinks into them.
   */
  const attempt = async (
    i: number,
    layer: Descriptor,
    feed?: LayerFeed,
    lowers?: string[],
  ): Promise<Unpacked> => {
    const chainId = ids[i] as Digest;
    const diffId = config.rootfs.diff_ids[i] as Digest;
    const target = await deps.snapshots.prepare(chainId);
    const blobPath = deps.store.blobPath(layer.digest);
    const implicitFile = !native && i > 0 ? join(dirname(target.fs), 'implicit-dirs') : undefined;
    const parentsFile = implicitFile && !lowers ? join(dirname(target.fs), 'parent-dirs') : undefined;
    try {
      if (native && i > 0)
        await copyParent(deps.snapshots.fsPath(ids[i - 1] as Digest), target.fs, layerName(layer));
      const size = await run({
        blobPath,
        ...(feed
          ? {
              follow: {
                path: feed.path,
                blobPath,
                progress: feed.progress,
                size: layer.size,
                digest: layer.digest,
              },
            }
          : {}),
        mediaType: layer.mediaType,
        digest: layer.digest,
        diffId,
        ...(deps.image ? { image: deps.image } : {}),
        budget,
        dest: target.fs,
        mode: native ? 'native' : 'overlay',
        maxBytes: limits.maxLayerBytes,
        reserveBytes: limits.reserveBytes,
        preserveOwnership,
        ...(lowers ? { lowers } : {}),
        ...(implicitFile ? { implicitDirsFile: implicitFile } : {}),
        ...(parentsFile ? { parentsFile } : {}),
      });
      const implicit = implicitFile ? await takeList(implicitFile) : [];
      const parents = parentsFile ? await takeList(parentsFile) : [];
      return { i, layer, target, size, implicit, parents };
    } catch (err) {
      await target.discard();
      throw err;
    }
  };

  /**
   * Publish an unpacked layer; first, in overlay form, its parent-only directories take the
   * metadata of the lower directories they cover (the lowers awaited here, outside any slot).
   */
  const publish = async ({ i, layer, target, size, implicit }: Unpacked): Promise<void> => {
    const chainId = ids[i] as Digest;
    try {
      if (implicit.length > 0) {
        await Promise.all(ready.slice(0, i).map((d) => d.promise));
        inheritDirMeta(target.fs, lowersOf(i), implicit, preserveOwnership);
      }
      const info: SnapshotInfo = {
        chainId,
        diffId: config.rootfs.diff_ids[i] as Digest,
        parent: i === 0 ? null : (ids[i - 1] as Digest),
        size,
        createdAt: deps.now().toISOString(),
      };
      await target.commit(info);
      infos[i] = info;
      unpacked++;
      onEvent?.({ type: 'unpacked', digest: layer.digest, chainId, size, existed: false });
    } catch (err) {
      await target.discard();
      throw err;
    }
  };

  /** Whether a layer unpacked without its lowers made a parent where the lowers show a symlink or file. */
  const standsOnLowerEntry = async ({ i, parents }: Unpacked): Promise<boolean> => {
    if (parents.length === 0) return false;
    await Promise.all(ready.slice(0, i).map((d) => d.promise));
    return mayMeetLowerEntry(lowersOf(i), parents);
  };

  const unpackLayer = async (i: number, layer: Descriptor, feed?: LayerFeed): Promise<void> => {
    const chainId = ids[i] as Digest;
    const existing = await deps.snapshots.get(chainId);
    if (existing) {
      infos[i] = existing;
      budget.used += existing.size;
      if (budget.used > budget.max) throw imageTooLarge(layerName(layer), budget.max);
      onEvent?.({ type: 'unpacked', digest: layer.digest, chainId, size: existing.size, existed: true });
      return;
    }
    if (native) {
      await ready[i - 1]?.promise; // the parent's tree is this snapshot's starting point
      await publish(await slot(() => attempt(i, layer, feed)));
      return;
    }
    const first = await slot(() => attempt(i, layer, feed)).catch((err: unknown) => {
      if (!hasCode(err, 'ERR_LAYER_NEEDS_LOWER')) throw err;
      return undefined;
    });
    if (first) {
      const again = await standsOnLowerEntry(first).catch(async (err: unknown) => {
        await first.target.discard();
        throw err;
      });
      if (!again) {
        await publish(first);
        return;
      }
      await first.target.discard();
      budget.used -= first.size; // counted again by the next attempt
    }
    // A hardlink into a lower layer, or a path through a lower symlink or file: wait for the blob and the
    // lower snapshots (outside the slot, so they can use it), then unpack once more with them at hand.
    await feed?.stored;
    await Promise.all(ready.slice(0, i).map((d) => d.promise));
    await publish(await slot(() => attempt(i, layer, undefined, lowersOf(i))));
  };

  return {
    async layer(i, layer, feed) {
      const done = ready[i];
      try {
        await unpackLayer(i, layer, feed);
        done?.resolve();
      } catch (err) {
        done?.reject(err);
        throw err;
      }
    },
    abort(reason) {
      for (const d of ready) d.reject(reason);
    },
    result() {
      const size = infos.reduce((n, s) => n + s.size, 0);
      return { chainIds: ids, unpacked, size };
    },
  };
}

/** The NUL-separated list a layer's applier wrote (apply.ts implicitDirsFile), removed once read. */
async function takeList(file: string): Promise<Buffer[]> {
  const bytes = await readFile(file).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT') return Buffer.alloc(0); // the layer made none
    throw err;
  });
  await rm(file, { force: true });
  const out: Buffer[] = [];
  let start = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(0, start);
    out.push(bytes.subarray(start, end < 0 ? bytes.length : end));
    start = end < 0 ? bytes.length : end + 1;
  }
  return out;
}
