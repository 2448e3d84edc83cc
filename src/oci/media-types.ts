// Media types of the OCI image-spec and their Docker schema2 equivalents. Layers: every form both
// define (plain tar, gzip, zstd; OCI non-distributable and Docker foreign layers, which berth
// fetches from the registry by digest like any other, never from their `urls`).

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  dockerLayerForeign: 'application/vnd.docker.image.rootfs.foreign.diff.tar',
  dockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export const INDEX_MEDIA_TYPES: readonly string[] = [MediaType.ociIndex, MediaType.dockerManifestList];
export const MANIFEST_MEDIA_TYPES: readonly string[] = [MediaType.ociManifest, MediaType.dockerManifest];
export const CONFIG_MEDIA_TYPES: readonly string[] = [MediaType.ociConfig, MediaType.dockerConfig];
export const SCHEMA1_MEDIA_TYPES: readonly string[] = [
  MediaType.dockerSchema1,
  MediaType.dockerSchema1Signed,
];
export const LAYER_MEDIA_TYPES: readonly string[] = [
  MediaType.ociLayer,
  MediaType.ociLayerGzip,
  MediaType.ociLayerZstd,
  MediaType.ociLayerNondistributable,
  MediaType.ociLayerNondistributableGzip,
  MediaType.ociLayerNondistributableZstd,
  MediaType.dockerLayer,
  MediaType.dockerLayerGzip,
  MediaType.dockerLayerZstd,
  MediaType.dockerLayerForeign,
  MediaType.dockerLayerForeignGzip,
];

/** What a manifest GET accepts, best first. Schema1 is deliberately absent. */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaType.ociIndex,
  MediaType.dockerManifestList,
  MediaType.ociManifest,
  MediaType.dockerManifest,
];

export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_MEDIA_TYPES.includes(mediaType);
}

export function isManifestMediaType(mediaType: string): boolean {
  return MANIFEST_MEDIA_TYPES.includes(mediaType);
}

/** OCI non-distributable and Docker foreign layers: those a manifest may list `urls` for. */
export function isForeignLayerMediaType(mediaType: string): boolean {
  return mediaType.includes('.nondistributable.') || mediaType.includes('.foreign.');
}

export function isLayerMediaType(mediaType: string): boolean {
  return LAYER_MEDIA_TYPES.includes(mediaType);
}

export type LayerCompression = 'gzip' | 'zstd' | 'none';

export function layerCompression(mediaType: string): LayerCompression | undefined {
  if (!isLayerMediaType(mediaType)) return undefined;
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.tar.gzip')) return 'gzip';
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.tar.zstd')) return 'zstd';
  return 'none';
}

/** `application/json; charset=utf-8` → `application/json`. */
export function normalizeContentType(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const bare = value.split(';')[0]?.trim().toLowerCase();
  return bare ? bare : undefined;
}

/**
 * Content-Types that say only "some JSON" (static registries and some proxies serve every manifest
 * so): the body's own `mediaType` then says what a manifest is, as go-containerregistry reads it.
 */
const GENERIC_CONTENT_TYPES = ['application/json', 'application/octet-stream', 'text/plain'];

export function isGenericContentType(contentType: string): boolean {
  return GENERIC_CONTENT_TYPES.includes(contentType);
}

/** The `mediaType` a JSON body names for itself, or undefined (not JSON, not an object, none given). */
export function bodyMediaType(bytes: Uint8Array): string | undefined {
  try {
    const json = JSON.parse(Buffer.from(bytes).toString('utf8')) as { mediaType?: unknown } | null;
    return typeof json?.mediaType === 'string' ? json.mediaType : undefined;
  } catch {
    return undefined;
  }
}
