// A `docker save` archive (manifest.json: Config, RepoTags, Layers per image) as an ImageSet. Such
// archives have no OCI manifest: one is made up per image from its config and layer files, and its
// digests are then checked like any pulled blob's when the bytes are stored. Layers are usually
// plain tars, whose digest is the diffID the config already names; a compressed layer is hashed.
//
// Invariants: names in manifest.json are looked up in the archive only (links followed inside it);
// every entry is shape-checked before use; RepoTags that are not references are refused.
import { createHash } from 'node:crypto';
import { BerthError } from '../lib/errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import { isObject } from '../oci/descriptor.js';
import { type Digest, isDigest, sha256Of } from '../oci/digest.js';
import { MAX_MANIFEST_BYTES, parseImageConfig, parseJson } from '../oci/image.js';
import { MediaType } from '../oci/media-types.js';
import { formatReference, parseReference } from '../oci/reference.js';
import type { ArchiveFile, ArchiveFiles } from './files.js';
import type { ArchiveBlob, ArchiveImage, ImageSet } from './image-set.js';

interface DockerEntry {
  config: string;
  tags: string[];
  layers: string[];
}

/** manifest.json's shape, checked (pure). */
export function parseDockerManifest(bytes: Buffer, where: string): DockerEntry[] {
  const json = parseJson(bytes, where);
  const bad = (why: string) => new BerthError('ERR_ARCHIVE_FORMAT', 'integrity', `${where}: ${why}`);
  if (!Array.isArray(json)) throw bad('not a JSON array');
  return json.map((e, i) => {
    if (!isObject(e)) throw bad(`entry ${i} is not an object`);
    const { Config, RepoTags } = e;
    const Layers = e.Layers === null ? [] : e.Layers; // Go writes an image of no layers' nil list as null
    if (typeof Config !== 'string') throw bad(`entry ${i} has no Config`);
    if (!Array.isArray(Layers) || !Layers.every((l) => typeof l === 'string'))
      throw bad(`entry ${i} has no Layers list`);
    const tags = RepoTags ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string'))
      throw bad(`entry ${i}: RepoTags is not a list of strings`);
    return { config: Config, tags, layers: Layers as string[] };
  });
}

/** The configs of one archive, together: real ones are kilobytes (a few MiB with a long history). */
export const MAX_CONFIG_BYTES = 256 * 1024 * 1024;

const GZIP = Buffer.from([0x1f, 0x8b]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

async function head(file: ArchiveFile): Promise<Buffer> {
  for await (const chunk of file.stream(0)) return chunk.subarray(0, 4);
  return Buffer.alloc(0);
}

async function hashFile(file: ArchiveFile): Promise<Digest> {
  const h = createHash('sha256');
  for await (const chunk of file.stream(0)) h.update(chunk);
  return `sha256:${h.digest('hex')}`;
}

type Compression = 'gzip' | 'zstd' | 'none';

/** A layer file's compression, from its first bytes. */
async function compressionOf(file: ArchiveFile): Promise<Compression> {
  const magic = await head(file);
  return magic.subarray(0, 2).equals(GZIP) ? 'gzip' : magic.equals(ZSTD) ? 'zstd' : 'none';
}

const LAYER_MEDIA_TYPES: Record<Compression, string> = {
  gzip: MediaType.ociLayerGzip,
  zstd: MediaType.ociLayerZstd,
  none: MediaType.ociLayer,
};

/**
 * What is read of a layer file, once per file whatever names it (`facts`): its compression, and its
 * hash when its digest is neither in its path nor (uncompressed) its diff_id.
 */
interface LayerFacts {
  compression: Promise<Compression>;
  hash?: Promise<Digest>;
}

/** A layer file's descriptor: its media type from its first bytes, its digest from the path or the config. */
async function layerDescriptor(
  path: string,
  file: ArchiveFile,
  diffId: string | undefined,
  facts: LayerFacts,
): Promise<Descriptor> {
  const compression = await facts.compression;
  const named = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
  let digest: Digest;
  if (named) digest = `sha256:${named[1]}`;
  else if (compression === 'none' && diffId && isDigest(diffId)) digest = diffId;
  else {
    facts.hash ??= hashFile(file);
    digest = await facts.hash;
  }
  return { mediaType: LAYER_MEDIA_TYPES[compression], digest, size: file.size };
}

export async function readDockerArchive(files: ArchiveFiles): Promise<ImageSet> {
  const where = `manifest.json of ${files.name}`;
  const manifestFile = await files.get('manifest.json');
  if (!manifestFile) throw new BerthError('ERR_ARCHIVE_FORMAT', 'invalid', `${files.name}: no manifest.json`);
  const entries = parseDockerManifest(await manifestFile.read(MAX_MANIFEST_BYTES), where);
  const blobs = new Map<Digest, ArchiveBlob>();
  const images: ArchiveImage[] = [];
  const unnamed: Descriptor[] = [];
  // Each name opened once (a directory archive holds a descriptor per open).
  const opened = new Map<string, Promise<ArchiveFile>>();
  const need = (path: string) => {
    const got =
      opened.get(path) ??
      files.get(path).then((f) => {
        if (!f)
          throw new BerthError(
            'ERR_ARCHIVE_FORMAT',
            'integrity',
            `${where} names "${path}", which the archive lacks`,
          );
        return f;
      });
    opened.set(path, got);
    return got;
  };
  // Each file is read (its first bytes, a compressed layer hashed, a config parsed) once, however
  // often and by whatever names (links) manifest.json names it, whatever diff_id each time: images
  // sharing layers, or a hostile list naming one 1 GiB layer thousands of times (with as many
  // diff_ids). Configs are held in memory, so together they are bounded.
  const facts = new Map<string, LayerFacts>();
  const layerOf = async (path: string, diffId: string | undefined) => {
    const file = await need(path);
    let known = facts.get(file.key);
    if (!known) {
      known = { compression: compressionOf(file) };
      facts.set(file.key, known);
    }
    return layerDescriptor(path, file, diffId, known);
  };
  const configs = new Map<string, { bytes: Buffer; digest: Digest; diffIds: Map<number, string[]> }>();
  let configBytesHeld = 0;
  for (const entry of entries) {
    const file = await need(entry.config);
    let read = configs.get(file.key);
    if (!read) {
      const bytes = await file.read(MAX_MANIFEST_BYTES);
      configBytesHeld += bytes.length;
      if (configBytesHeld > MAX_CONFIG_BYTES)
        throw new BerthError(
          'ERR_ARCHIVE_ENTRY_TOO_LARGE',
          'limit',
          `${where}: its configs are past ${MAX_CONFIG_BYTES} bytes together (at "${entry.config}")`,
        );
      read = { bytes, digest: sha256Of(bytes), diffIds: new Map() };
      configs.set(file.key, read);
    }
    const { bytes: configBytes, digest: configDigest } = read;
    const diffIds =
      read.diffIds.get(entry.layers.length) ??
      parseImageConfig(configBytes, `config ${entry.config} of ${files.name}`, entry.layers.length).rootfs
        .diff_ids;
    read.diffIds.set(entry.layers.length, diffIds);
    blobs.set(configDigest, { bytes: configBytes });
    const layers: Descriptor[] = [];
    for (const [i, path] of entry.layers.entries()) {
      const desc = await layerOf(path, diffIds[i]);
      blobs.set(desc.digest, { path });
      layers.push(desc);
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configBytes.length },
      layers,
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const descriptor: Descriptor = {
      mediaType: MediaType.ociManifest,
      digest: sha256Of(bytes),
      size: bytes.length,
    };
    blobs.set(descriptor.digest, { bytes });
    if (entry.tags.length === 0) unnamed.push(descriptor);
    for (const tag of entry.tags) images.push({ name: formatReference(parseReference(tag)), descriptor });
  }
  return {
    format: 'docker',
    files,
    images,
    unnamed,
    blob: (digest) => {
      const b = blobs.get(digest);
      if (!b) throw new BerthError('ERR_BLOB_NOT_FOUND', 'not-found', `${files.name} has no blob ${digest}`);
      return b;
    },
  };
}
