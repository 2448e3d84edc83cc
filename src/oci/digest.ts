import { createHash, type Hash } from 'node:crypto';
import { BerthError } from '../lib/errors.js';

/** `algorithm:hex`, validated: a digest is checked before any path is built from it. */
export type Digest = `${string}:${string}`;

const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

export function isDigest(value: string): value is Digest {
  const i = value.indexOf(':');
  if (i < 0) return false;
  const len = HEX_LENGTH[value.slice(0, i)];
  const hex = value.slice(i + 1);
  return len !== undefined && hex.length === len && /^[a-f0-9]+$/.test(hex);
}

export function parseDigest(value: string): Digest {
  if (!isDigest(value)) {
    throw new BerthError('ERR_DIGEST_INVALID', 'invalid', `invalid digest "${truncate(value)}"`, {
      hint: 'expected sha256:<64 lowercase hex> or sha512:<128 lowercase hex>',
    });
  }
  return value;
}

export function digestAlgorithm(digest: Digest): string {
  return digest.slice(0, digest.indexOf(':'));
}

export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

export function createDigester(digest: Digest): Hash {
  return createHash(digestAlgorithm(digest));
}

export function sha256Of(bytes: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function digestOf(algorithm: string, bytes: Uint8Array): Digest {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export function shortDigest(digest: string): string {
  return digestHexOrSelf(digest).slice(0, 12);
}

function digestHexOrSelf(value: string): string {
  const i = value.indexOf(':');
  return i < 0 ? value : value.slice(i + 1);
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}
