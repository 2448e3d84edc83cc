import type { ContentStore, ImageRecord } from '../content/types.js';
import { BerthError } from '../lib/errors.js';
import type { Digest } from '../oci/digest.js';
import {
  type ImageConfig,
  type ImageManifest,
  MAX_MANIFEST_BYTES,
  parseImageConfig,
  parseManifest,
} from '../oci/image.js';
import type { Platform } from '../oci/platform.js';

export interface ImageDetails {
  /** The config digest: the image's identity whatever it is called. */
  id: Digest;
  name: string;
  digest: Digest;
  repoDigest: Digest;
  mediaType: string;
  platform?: Platform;
  /** Compressed size of config and layers. */
  size: number;
  layers: number;
  pulledAt: string;
  lastUsedAt?: string;
  manifest: ImageManifest;
  config: ImageConfig;
}

export async function describeImage(store: ContentStore, record: ImageRecord): Promise<ImageDetails> {
  const target = record.target;
  const bytes = await store.readBlob(target.digest, MAX_MANIFEST_BYTES);
  const parsed = parseManifest(bytes, target.mediaType, `${record.name} (${target.digest})`);
  if (parsed.kind !== 'manifest')
    throw new BerthError(
      'ERR_STORE_CORRUPT',
      'internal',
      `${record.name}: index.json entry is not an image manifest`,
    );
  const manifest = parsed.manifest;
  const configBytes = await store.readBlob(manifest.config.digest, MAX_MANIFEST_BYTES);
  const config = parseImageConfig(configBytes, `config of ${record.name}`, manifest.layers.length);
  const details: ImageDetails = {
    id: manifest.config.digest,
    name: record.name,
    digest: target.digest,
    repoDigest: record.repoDigest,
    mediaType: target.mediaType,
    size: manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0),
    layers: manifest.layers.length,
    pulledAt: record.pulledAt,
    manifest,
    config,
  };
  if (target.platform) details.platform = target.platform;
  if (record.lastUsedAt) details.lastUsedAt = record.lastUsedAt;
  return details;
}
