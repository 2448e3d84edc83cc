// ImageIndex, ImageManifest and ImageConfig: parsing untrusted JSON into checked shapes. Pure.
import { BerthError } from '../lib/errors.js';
import { type Descriptor, isObject, parseDescriptor } from './descriptor.js';
import { type Digest, isDigest } from './digest.js';
import {
  CONFIG_MEDIA_TYPES,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  MediaType,
  SCHEMA1_MEDIA_TYPES,
} from './media-types.js';

export interface ImageIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    StopSignal?: string;
    Volumes?: Record<string, object> | null;
    ExposedPorts?: Record<string, object> | null;
  };
  rootfs: { type: string; diff_ids: Digest[] };
  history?: Array<Record<string, unknown>>;
}

export type ParsedManifest =
  | { kind: 'index'; index: ImageIndex }
  | { kind: 'manifest'; manifest: ImageManifest };

/** The largest manifest or config berth will read (as containerd and the distribution spec). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

function malformed(what: string, why: string, cause?: unknown): BerthError {
  return new BerthError('ERR_MANIFEST_INVALID', 'integrity', `${what}: ${why}`, { cause });
}

export function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new BerthError('ERR_MALFORMED_JSON', 'integrity', `${what}: malformed JSON`, { cause: err });
  }
}

/**
 * Parse an index or manifest. `expected` is the media type the transport claimed (Content-Type or
 * the descriptor that pointed here): the body's own `mediaType` must agree with it.
 */
export function parseManifest(bytes: Uint8Array, expected: string, what: string): ParsedManifest {
  if (SCHEMA1_MEDIA_TYPES.includes(expected)) throw schema1(what);
  const json = parseJson(bytes, what);
  if (!isObject(json)) throw malformed(what, 'not a JSON object');
  if (json.schemaVersion === 1) throw schema1(what);
  if (json.schemaVersion !== 2)
    throw malformed(what, `unsupported schemaVersion ${String(json.schemaVersion)}`);
  const bodyType = typeof json.mediaType === 'string' ? json.mediaType : undefined;
  if (bodyType !== undefined && bodyType !== expected) {
    throw new BerthError(
      'ERR_MEDIA_TYPE_MISMATCH',
      'integrity',
      `${what}: body says mediaType ${bodyType} but it was served as ${expected}`,
    );
  }
  if (isIndexMediaType(expected)) {
    if (!Array.isArray(json.manifests)) throw malformed(what, 'index without "manifests"');
    if (json.config !== undefined || json.layers !== undefined) throw malformed(what, 'index with "layers"');
    const manifests = json.manifests.map((m, i) => parseDescriptor(m, `manifests[${i}] of ${what}`));
    const index: ImageIndex = { schemaVersion: 2, mediaType: expected, manifests };
    return { kind: 'index', index };
  }
  if (isManifestMediaType(expected)) {
    if (json.manifests !== undefined) throw malformed(what, 'manifest with "manifests"');
    // No layers (absent, or null: Go's encoder writes a nil list so) is an image of none, as
    // containerd's decoder reads it (tianon/scratch:nolayers; BuildKit's FROM scratch with only config).
    if (json.layers != null && !Array.isArray(json.layers)) throw malformed(what, '"layers" is not a list');
    const config = parseDescriptor(json.config, `config of ${what}`);
    const layers = ((json.layers ?? []) as unknown[]).map((l, i) =>
      parseDescriptor(l, `layers[${i}] of ${what}`),
    );
    checkManifestMediaTypes(expected, config, layers, what);
    return { kind: 'manifest', manifest: { schemaVersion: 2, mediaType: expected, config, layers } };
  }
  throw new BerthError(
    'ERR_MEDIA_TYPE_UNSUPPORTED',
    'integrity',
    `${what}: unsupported media type "${expected}"`,
  );
}

function checkManifestMediaTypes(type: string, config: Descriptor, layers: Descriptor[], what: string): void {
  if (!CONFIG_MEDIA_TYPES.includes(config.mediaType)) {
    throw new BerthError(
      'ERR_MEDIA_TYPE_UNSUPPORTED',
      'integrity',
      `${what}: config has media type "${config.mediaType}", which is not an image config`,
      { hint: type === MediaType.ociManifest ? 'artifacts other than images are not supported' : undefined },
    );
  }
  layers.forEach((l, i) => {
    if (!isLayerMediaType(l.mediaType)) {
      throw new BerthError(
        'ERR_MEDIA_TYPE_UNSUPPORTED',
        'integrity',
        `${what}: layers[${i}] (${l.digest}) has unsupported media type "${l.mediaType}"`,
      );
    }
  });
}

function schema1(what: string): BerthError {
  return new BerthError('ERR_SCHEMA1', 'invalid', `${what}: Docker schema1 manifests are not supported`, {
    hint: 'the image must be re-pushed with a current client (schema1 was deprecated in 2017)',
  });
}

/** Parse an image config; `layerCount` must equal the number of diff_ids. */
export function parseImageConfig(bytes: Uint8Array, what: string, layerCount: number): ImageConfig {
  const json = parseJson(bytes, what);
  if (!isObject(json)) throw malformed(what, 'not a JSON object');
  const rootfs = json.rootfs;
  if (!isObject(rootfs)) throw malformed(what, 'missing rootfs');
  // An image of no layers: Docker writes no diff_ids (its RootFS.DiffIDs is omitempty), Go's
  // encoder a null for a nil list; containerd and Docker read both as none.
  if (rootfs.diff_ids == null) rootfs.diff_ids = [];
  if (!Array.isArray(rootfs.diff_ids)) throw malformed(what, 'rootfs.diff_ids is not a list');
  // The first diffID is the first snapshot's chainID, whose path is built from it.
  const bad = rootfs.diff_ids.findIndex((d) => typeof d !== 'string' || !isDigest(d));
  if (bad >= 0) {
    const shown = JSON.stringify(rootfs.diff_ids[bad]) ?? 'undefined';
    throw malformed(what, `rootfs.diff_ids[${bad}] ${shown.slice(0, 80)} is not a digest`);
  }
  if (rootfs.diff_ids.length !== layerCount) {
    throw malformed(what, `has ${rootfs.diff_ids.length} diff_ids for ${layerCount} layers`);
  }
  checkConfigTypes(json, what);
  return json as unknown as ImageConfig;
}

const STRINGS = ['User', 'WorkingDir', 'StopSignal'] as const;
const LISTS = ['Env', 'Entrypoint', 'Cmd'] as const;
const MAPS = ['Labels', 'Volumes', 'ExposedPorts'] as const;

/**
 * The fields berth reads have the types the spec gives them, or the image is refused at pull, as
 * containerd's decoder refuses it (a number in Env, a map for a path), naming the field; `null` is
 * absent, as in Go. A string Entrypoint or Cmd is one argument, as Docker's StrSlice reads it
 * (never its characters one by one).
 */
function checkConfigTypes(json: Record<string, unknown>, what: string): void {
  for (const key of ['architecture', 'os', 'variant', 'created'] as const)
    if (json[key] != null && typeof json[key] !== 'string') throw malformed(what, `${key} is not a string`);
  const config = json.config;
  if (config == null) return;
  if (!isObject(config)) throw malformed(what, 'config is not a JSON object');
  for (const key of STRINGS)
    if (config[key] != null && typeof config[key] !== 'string')
      throw malformed(what, `config.${key} is not a string`);
  for (const key of LISTS) {
    const v = config[key];
    if (key !== 'Env' && typeof v === 'string') config[key] = [v];
    else if (v != null && (!Array.isArray(v) || v.some((e) => typeof e !== 'string')))
      throw malformed(what, `config.${key} is not a list of strings`);
  }
  for (const key of MAPS)
    if (config[key] != null && !isObject(config[key]))
      throw malformed(what, `config.${key} is not a JSON object`);
  const labels = config.Labels;
  if (isObject(labels) && Object.values(labels).some((v) => typeof v !== 'string'))
    throw malformed(what, 'config.Labels has a value that is not a string');
}
