import { BerthError } from '../lib/errors.js';
import { type Digest, isDigest } from './digest.js';
import type { Platform } from './platform.js';

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Check a descriptor's shape; `where` names it in the error ("layers[2] of sha256:…"). */
export function parseDescriptor(value: unknown, where: string): Descriptor {
  const bad = (why: string) =>
    new BerthError('ERR_DESCRIPTOR_INVALID', 'integrity', `invalid descriptor ${where}: ${why}`);
  if (!isObject(value)) throw bad('not an object');
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || mediaType === '') throw bad('missing mediaType');
  if (typeof digest !== 'string' || !isDigest(digest)) throw bad(`bad digest ${JSON.stringify(digest)}`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw bad(`bad size ${JSON.stringify(size)}`);
  }
  const d: Descriptor = { mediaType, digest, size };
  if (Array.isArray(value.urls)) d.urls = value.urls.filter((u): u is string => typeof u === 'string');
  if (isObject(value.annotations)) d.annotations = stringRecord(value.annotations);
  if (isObject(value.platform)) {
    const p = value.platform;
    if (typeof p.os === 'string' && typeof p.architecture === 'string') {
      d.platform = { os: p.os, architecture: p.architecture };
      if (typeof p.variant === 'string') d.platform.variant = p.variant;
      if (typeof p['os.version'] === 'string') d.platform['os.version'] = p['os.version'];
    }
  }
  if (typeof value.artifactType === 'string') d.artifactType = value.artifactType;
  return d;
}

function stringRecord(value: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}
