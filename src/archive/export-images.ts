// `image export`: images of the store into one archive, an OCI layout in a tar (oci-archive) or a
// `docker save` archive (`docker load` reads it). The archive is written beside its destination
// under a temporary name, fsynced, and renamed: a failed export leaves no partial FILE. An OCI
// archive names each image by what was pulled: the index a tag resolved to, with every index on the
// way down to the platform's manifest (export-chain.ts).
import { type Hash, randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { damagedBlobError, takeOutIfDamaged } from '../content/damaged-blob.js';
import { fsyncDir } from '../content/fsync.js';
import type { ContentStore } from '../content/types.js';
import { describeImage, type ImageDetails } from '../images/describe.js';
import { findImages } from '../images/find.js';
import { BerthError, errnoCode } from '../lib/errors.js';
import { type Descriptor, REF_NAME_ANNOTATION } from '../oci/descriptor.js';
import { createDigester, type Digest, digestAlgorithm, digestHex } from '../oci/digest.js';
import { MediaType } from '../oci/media-types.js';
import { DEFAULT_REGISTRY, formatReference, parseReference } from '../oci/reference.js';
import { type ExportChain, exportChain } from './export-chain.js';
import { CONTAINERD_NAME_ANNOTATION } from './oci-layout.js';
import { TarWriter } from './tar-writer.js';

export type ExportFormat = 'oci' | 'docker';

export interface ExportResult {
  file: string;
  format: ExportFormat;
  images: string[];
  blobs: number;
  bytes: number;
}

function blobName(digest: Digest): string {
  return `blobs/${digestAlgorithm(digest)}/${digestHex(digest)}`;
}

/** `docker.io/library/busybox:1` → `busybox:1`, as `docker load` prints and expects tags. */
export function familiarName(name: string): string {
  const prefix = `${DEFAULT_REGISTRY}/`;
  if (!name.startsWith(prefix)) return name;
  const rest = name.slice(prefix.length);
  return rest.startsWith('library/') && !rest.slice(8).includes('/') ? rest.slice(8) : rest;
}

/**
 * The archive's metadata files for `images` (pure); `chains` (by image name, OCI only) says what
 * each entry names when it is an index the image was pulled through.
 */
export function archiveMetadata(
  images: ImageDetails[],
  format: ExportFormat,
  manifestSize: (digest: Digest) => number,
  chains: ReadonlyMap<string, ExportChain> = new Map(),
): Array<[string, Buffer]> {
  const json = (v: unknown) => Buffer.from(`${JSON.stringify(v)}\n`);
  if (format === 'docker') {
    const byId = new Map<string, { Config: string; RepoTags: string[]; Layers: string[] }>();
    // A tag written for two images would end on the later one at `docker load` (it moves a tag):
    // a name with tag and digest gives its tag only when no other image exported has that tag.
    const tagOf = (name: string) => {
      const ref = parseReference(name);
      return ref.tag === undefined ? undefined : familiarName(formatReference({ ...ref, digest: undefined }));
    };
    const claimants = new Map<string, Set<string>>();
    for (const i of images) {
      const tag = tagOf(i.name);
      if (tag) claimants.set(tag, (claimants.get(tag) ?? new Set()).add(i.digest));
    }
    for (const i of images) {
      const entry = byId.get(i.digest) ?? {
        Config: blobName(i.manifest.config.digest),
        RepoTags: [],
        Layers: i.manifest.layers.map((l) => blobName(l.digest)),
      };
      // `docker load` takes a RepoTag only with a tag and no digest: one pinned by digest alone
      // ("invalid tag") or by both ("refusing to create a tag with a digest reference") failed the
      // whole load. The tag alone is written, and none for a digest alone (untagged, as `docker
      // save` of it writes it).
      const tag = tagOf(i.name);
      const pinned = parseReference(i.name).digest !== undefined;
      const shared = tag !== undefined && (claimants.get(tag)?.size ?? 0) > 1;
      if (tag && !(pinned && shared) && !entry.RepoTags.includes(tag)) entry.RepoTags.push(tag);
      byId.set(i.digest, entry);
    }
    return [['manifest.json', json([...byId.values()])]];
  }
  const manifests: Descriptor[] = images.map((i) => {
    const annotations = { [REF_NAME_ANNOTATION]: i.name, [CONTAINERD_NAME_ANNOTATION]: i.name };
    const top = chains.get(i.name)?.top;
    if (top && top.digest !== i.digest)
      return { mediaType: top.mediaType, digest: top.digest, size: top.size, annotations };
    return {
      mediaType: i.mediaType,
      digest: i.digest,
      size: manifestSize(i.digest),
      annotations,
      ...(i.platform ? { platform: i.platform } : {}),
    };
  });
  return [
    ['oci-layout', json({ imageLayoutVersion: '1.0.0' })],
    ['index.json', json({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests })],
  ];
}

export async function exportImages(
  store: ContentStore,
  refs: string[],
  file: string,
  format: ExportFormat,
): Promise<ExportResult> {
  const images: ImageDetails[] = [];
  for (const ref of refs) {
    for (const record of await findImages(store, ref)) {
      if (!images.some((i) => i.name === record.name)) images.push(await describeImage(store, record));
    }
  }
  const blobs = new Map<Digest, number>();
  const chains = new Map<string, ExportChain>();
  for (const i of images) {
    if (format === 'oci') {
      const chain = await exportChain(
        store,
        { mediaType: i.mediaType, digest: i.digest, size: (await store.size(i.digest)) ?? 0 },
        i.repoDigest,
      );
      chains.set(i.name, chain);
      for (const index of chain.indexes) blobs.set(index.digest, index.size);
      blobs.set(i.digest, (await store.size(i.digest)) ?? 0);
    }
    blobs.set(i.manifest.config.digest, i.manifest.config.size);
    for (const l of i.manifest.layers) blobs.set(l.digest, l.size);
  }
  const metadata = archiveMetadata(images, format, (d) => blobs.get(d) ?? 0, chains);
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const out = await open(tmp, 'wx', 0o600);
  let bytes = 0;
  try {
    const tar = new TarWriter(out);
    for (const [name, b] of metadata) await tar.addBytes(name, b);
    for (const [digest, size] of blobs) {
      // Opened here, awaited: a blob missing from the store is this export's error (and its
      // temporary file goes), not a read stream's 'error' event that nothing listens to yet.
      const blob = await open(store.blobPath(digest), 'r').catch((err: unknown) => {
        if (errnoCode(err) !== 'ENOENT') throw err;
        throw new BerthError('ERR_BLOB_NOT_FOUND', 'not-found', `blob ${digest} is missing from the store`, {
          hint: 'pull or import the image again',
        });
      });
      // Hashed on its way out: a blob damaged in the store never reaches another host.
      const hash = createDigester(digest);
      try {
        await tar.addStream(
          blobName(digest),
          size,
          hashing(blob.createReadStream({ highWaterMark: 1 << 20, autoClose: false }), hash),
        );
      } finally {
        await blob.close();
      }
      const sent = `${digestAlgorithm(digest)}:${hash.digest('hex')}` as Digest;
      if (sent !== digest) {
        await takeOutIfDamaged(store.blobPath(digest), digest);
        throw damagedBlobError(`exporting to ${file}`, digest, sent, ownerOf(images, chains, digest));
      }
      bytes += size;
    }
    await tar.end();
    await out.sync();
    await out.close();
    await rename(tmp, file);
    await fsyncDir(dirname(file));
  } catch (err) {
    await out.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  return { file, format, images: images.map((i) => i.name), blobs: blobs.size, bytes };
}

/** `chunks` as they are, each also fed to `hash`. */
async function* hashing(chunks: AsyncIterable<Buffer>, hash: Hash): AsyncIterable<Buffer> {
  for await (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
}

/** The first exported image that holds `digest` (the one to pull again), an index on its way too. */
function ownerOf(
  images: ImageDetails[],
  chains: ReadonlyMap<string, ExportChain>,
  digest: Digest,
): string | undefined {
  return images.find(
    (i) =>
      i.digest === digest ||
      i.manifest.config.digest === digest ||
      i.manifest.layers.some((l) => l.digest === digest) ||
      chains.get(i.name)?.indexes.some((x) => x.digest === digest),
  )?.name;
}
