import type { ContentStore, Lease } from '../content/types.js';
import { BerthError, errnoCode, hasCode, isBerthError, isRetryable } from '../lib/errors.js';
import { mapLimit } from '../lib/limit.js';
import type { Descriptor } from '../oci/descriptor.js';
import { type Digest, digestAlgorithm, digestOf } from '../oci/digest.js';
import { type ImageConfig, MAX_MANIFEST_BYTES, parseImageConfig } from '../oci/image.js';
import { formatPlatform, type Platform, platformRank } from '../oci/platform.js';
import { formatReference, type Reference } from '../oci/reference.js';
import { fromMirror } from '../registry/mirrors.js';
import type { RegistryClient, RepoRef } from '../registry/types.js';
import {
  createSnapshotter,
  type LayerFeed,
  type Snapshotter,
  type UnpackEvent,
} from '../snapshot/ensure-snapshots.js';
import type { SnapshotStore } from '../snapshot/snapshot-store.js';
import type { UnpackLimits, UnpackRunner } from '../snapshot/unpack-image.js';
import { MemorySink } from './memory-sink.js';
import { type ResolvedImage, resolveImage } from './resolve.js';
import { awaitOtherDownload } from './shared-ingest.js';

export interface PullDeps {
  registry: RegistryClient;
  store: ContentStore;
  now: () => Date;
  /** When given, layers are unpacked into shared snapshots before the image is named. */
  unpack?: { snapshots: SnapshotStore; limits: UnpackLimits; run?: UnpackRunner; concurrency?: number };
}

export type PullEvent =
  | { type: 'resolved'; reference: string; manifest: Digest; layers: Descriptor[] }
  | { type: 'layer'; digest: Digest; size: number; held: number; state: 'exists' | 'downloading' | 'done' }
  | UnpackEvent
  | { type: 'named'; reference: string };

export interface PullOptions {
  platform: Platform;
  maxConcurrentDownloads: number;
  onEvent?: (event: PullEvent) => void;
  signal?: AbortSignal;
  /** When the name moves to another digest, keep the old one named by digest (an Image's `keep`). */
  keepPrevious?: boolean;
}

export interface PullResult {
  reference: string;
  manifestDigest: Digest;
  repoDigest: Digest;
  configDigest: Digest;
  /** Compressed bytes of config + layers. */
  size: number;
  /** Layers fetched now (the rest were already in the store). */
  fetchedLayers: number;
  /** Snapshots created now, and the image's uncompressed size (when unpacking). */
  unpackedLayers?: number;
  unpackedSize?: number;
  /** The mirror the reference was resolved at, when not the registry itself. */
  mirror?: string;
}

export async function pullImage(deps: PullDeps, ref: Reference, options: PullOptions): Promise<PullResult> {
  try {
    return await pullOnce(deps, ref, options);
  } catch (err) {
    // A stored layer that its unpack found damaged was taken out of the store (damaged-blob.ts):
    // this pull fetches it again, once.
    if (!hasCode(err, 'ERR_BLOB_DAMAGED')) throw err;
    return pullOnce(deps, ref, options);
  }
}

async function pullOnce(deps: PullDeps, ref: Reference, options: PullOptions): Promise<PullResult> {
  const name = formatReference(ref);
  const repo: RepoRef = { registry: ref.registry, repository: ref.repository };
  await deps.store.cleanIngest();
  const lease = await deps.store.createLease();
  try {
    const resolved = await resolveImage(deps.registry, ref, options.platform, options.signal);
    const { manifest } = resolved;
    options.onEvent?.({
      type: 'resolved',
      reference: name,
      manifest: resolved.manifestDescriptor.digest,
      layers: manifest.layers,
    });
    const { config, bytes: configBytes } = await fetchConfig(deps, repo, resolved, name, options);
    checkConfigPlatform(config, resolved, options.platform, name);
    await putVerified(deps.store, lease, manifest.config, configBytes);
    const snapshotter = deps.unpack
      ? await createSnapshotter(
          { ...deps.unpack, store: deps.store, now: deps.now, image: name },
          config,
          deps.unpack.limits,
          options.onEvent,
        )
      : undefined;
    const fetched = await fetchLayers(deps, lease, repo, manifest.layers, options, snapshotter);
    const unpacked = snapshotter?.result();
    await putVerified(deps.store, lease, resolved.manifestDescriptor, resolved.manifestBytes);
    // Innermost first, as the layers before their manifest: a stored index finds its children stored.
    for (const index of [...resolved.indexes].reverse()) {
      await putVerified(deps.store, lease, index.descriptor, index.bytes);
    }
    await deps.store.putImage(
      {
        name,
        target: resolved.manifestDescriptor,
        repoDigest: resolved.repoDigest,
        pulledAt: deps.now().toISOString(),
      },
      { keepPrevious: options.keepPrevious === true },
    );
    options.onEvent?.({ type: 'named', reference: name });
    return {
      reference: name,
      manifestDigest: resolved.manifestDescriptor.digest,
      repoDigest: resolved.repoDigest,
      configDigest: manifest.config.digest,
      size: manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0),
      fetchedLayers: fetched,
      ...(resolved.mirror ? { mirror: resolved.mirror } : {}),
      ...(unpacked ? { unpackedLayers: unpacked.unpacked, unpackedSize: unpacked.size } : {}),
    };
  } finally {
    await lease.release();
  }
}

/**
 * The blob is in the store with its descriptor's size. One of another size (cut short by a bad
 * sector or a file system repair) is damaged: it is fetched and stored again, over it.
 */
async function isStored(store: Pick<ContentStore, 'size'>, desc: Descriptor): Promise<boolean> {
  return (await store.size(desc.digest)) === desc.size;
}

async function putVerified(
  store: ContentStore,
  lease: Lease,
  desc: Descriptor,
  bytes: Buffer,
): Promise<void> {
  await lease.add(desc.digest);
  if (!(await isStored(store, desc))) await store.putBlob(desc, bytes);
}

/** The config, from the store or the registry; verified, but stored only once the caller accepts it. */
async function fetchConfig(
  deps: PullDeps,
  repo: RepoRef,
  resolved: ResolvedImage,
  name: string,
  options: PullOptions,
): Promise<{ config: ImageConfig; bytes: Buffer }> {
  const desc = resolved.manifest.config;
  const what = `config ${desc.digest} of ${name}`;
  let bytes: Buffer;
  if (await isStored(deps.store, desc)) {
    bytes = await deps.store.readBlob(desc.digest, MAX_MANIFEST_BYTES);
  } else {
    if (desc.size > MAX_MANIFEST_BYTES) {
      throw new BerthError(
        'ERR_BLOB_TOO_LARGE',
        'limit',
        `${what} is ${desc.size} bytes (limit ${MAX_MANIFEST_BYTES})`,
      );
    }
    const sink = new MemorySink(desc.size, what);
    await deps.registry.fetchBlob(repo, desc, sink, { signal: options.signal });
    bytes = sink.bytes();
    const actual = digestOf(digestAlgorithm(desc.digest), bytes);
    if (actual !== desc.digest) {
      throw new BerthError('ERR_DIGEST_MISMATCH', 'integrity', `${what}: content has digest ${actual}`);
    }
  }
  return { config: parseImageConfig(bytes, what, resolved.manifest.layers.length), bytes };
}

/** A single-platform manifest has no platform in a descriptor: its config says what it is. */
function checkConfigPlatform(
  config: ImageConfig,
  resolved: ResolvedImage,
  want: Platform,
  name: string,
): void {
  if (resolved.indexes.length > 0 && !resolved.platformFromConfig) return;
  // An index entry that said no platform is taken only for a config that says the one asked for.
  if (!config.os || !config.architecture) {
    if (!resolved.platformFromConfig) return;
    throw new BerthError(
      'ERR_NO_MATCHING_PLATFORM',
      'not-found',
      `${name}: the index names no platform for it, and its config says none either`,
      { hint: 'choose one with --platform' },
    );
  }
  const actual: Platform = { os: config.os, architecture: config.architecture };
  if (config.variant) actual.variant = config.variant;
  if (platformRank(want, actual) === undefined) {
    throw new BerthError(
      'ERR_NO_MATCHING_PLATFORM',
      'not-found',
      `${name}: image is for ${formatPlatform(actual)}, not ${formatPlatform(want)}`,
      { hint: 'choose one with --platform' },
    );
  }
  resolved.manifestDescriptor.platform = actual;
}

/**
 * Fetch every layer (largest first, a few at once). Each one is handed to the snapshotter as its
 * download starts, so it unpacks from the bytes as they land (its snapshot is published only once
 * the blob is verified). Returns how many layers were fetched; waits for every unpack too.
 */
async function fetchLayers(
  deps: PullDeps,
  lease: Lease,
  repo: RepoRef,
  layers: Descriptor[],
  options: PullOptions,
  snapshotter: Snapshotter | undefined,
): Promise<number> {
  const indexOf = new Map<string, number[]>();
  for (const [i, l] of layers.entries()) indexOf.set(l.digest, [...(indexOf.get(l.digest) ?? []), i]);
  const unique = [...new Map(layers.map((l) => [l.digest, l])).values()].sort((a, b) => b.size - a.size);
  const unpacks: Array<Promise<void>> = [];
  const handOver = (layer: Descriptor, feed?: LayerFeed) => {
    for (const i of indexOf.get(layer.digest) ?? []) {
      if (!snapshotter) continue;
      const unpack = snapshotter.layer(i, layer, feed);
      unpack.catch(() => undefined); // observed below; a handler now keeps it from counting as unhandled
      unpacks.push(unpack);
    }
  };
  let fetched = 0;
  const fetching = mapLimit(unique, options.maxConcurrentDownloads, async (layer) => {
    await lease.add(layer.digest);
    if (await isStored(deps.store, layer)) {
      options.onEvent?.({
        type: 'layer',
        digest: layer.digest,
        size: layer.size,
        held: layer.size,
        state: 'exists',
      });
      handOver(layer);
      return;
    }
    const report = (held: number, state: 'downloading' | 'exists') =>
      options.onEvent?.({ type: 'layer', digest: layer.digest, size: layer.size, held, state });
    const elsewhere = await awaitOtherDownload(deps.store, layer, {
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (held) => report(held, 'downloading'),
    });
    if (elsewhere) {
      report(layer.size, 'exists');
      handOver(layer);
      return;
    }
    await fetchBlobToStore(deps, repo, layer, options, (feed) => handOver(layer, feed));
    fetched++;
  });
  const results = await Promise.allSettled([fetching]);
  if (results[0]?.status === 'rejected') snapshotter?.abort(results[0].reason);
  // Every started unpack finishes (or fails) before we report, so no temp directory is in use.
  const unpackResults = await Promise.allSettled(unpacks);
  for (const r of [...results, ...unpackResults]) if (r.status === 'rejected') throw r.reason;
  return fetched;
}

async function fetchBlobToStore(
  deps: PullDeps,
  repo: RepoRef,
  desc: Descriptor,
  options: PullOptions,
  onStart: (feed: LayerFeed) => void,
): Promise<void> {
  const writer = await deps.store.openIngest(desc);
  let stored!: { resolve(): void; reject(err: unknown): void };
  const feed: LayerFeed = {
    path: writer.path,
    progress: writer.progress,
    stored: new Promise<void>((resolve, reject) => {
      stored = { resolve, reject };
    }),
  };
  feed.stored.catch(() => undefined); // observed by the unpacks that wait on it
  const report = (held: number, state: 'downloading' | 'done') =>
    options.onEvent?.({ type: 'layer', digest: desc.digest, size: desc.size, held, state });
  report(writer.offset, 'downloading');
  onStart(feed);
  let mirror: string | undefined;
  try {
    try {
      await deps.registry.fetchBlob(repo, desc, writer, {
        signal: options.signal,
        onProgress: (held) => report(held, 'downloading'),
        onMirror: (host) => {
          mirror = host;
        },
      });
    } catch (err) {
      // Keep what arrived when the failure is transient, so the next pull resumes it.
      await writer.abort(isRetryable(err) || options.signal?.aborted === true);
      throw noSpaceFor(err, desc, repo);
    }
    await writer.commit().catch((err: unknown) => {
      throw mirror && isBerthError(err) && err.kind === 'integrity'
        ? fromMirror(err, mirror)
        : noSpaceFor(err, desc, repo);
    });
    stored.resolve();
  } catch (err) {
    stored.reject(err);
    throw err;
  }
  report(desc.size, 'done');
}

/** A full file system while a blob is written: ERR_NO_SPACE naming the blob (else the error as it is). */
function noSpaceFor(err: unknown, desc: Descriptor, repo: RepoRef): unknown {
  if (errnoCode(err) !== 'ENOSPC') return err;
  return new BerthError(
    'ERR_NO_SPACE',
    'limit',
    `blob ${desc.digest} of ${repo.registry}/${repo.repository}: the file system is full`,
    { cause: err, hint: 'free space in --root; what arrived is discarded' },
  );
}
