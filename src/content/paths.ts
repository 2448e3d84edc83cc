import { join } from 'node:path';
import { OWNER_PATTERN } from '../lib/process.js';
import { type Digest, digestAlgorithm, digestHex, parseDigest } from '../oci/digest.js';

/** Where everything of the store lives under `root`. Digests are validated before use in a path. */
export interface StorePaths {
  root: string;
  content: string;
  blobs: string;
  indexJson: string;
  ociLayout: string;
  ingest: string;
  leases: string;
}

export function storePaths(root: string): StorePaths {
  const content = join(root, 'content');
  const ingest = join(root, 'ingest');
  return {
    root,
    content,
    blobs: join(content, 'blobs'),
    indexJson: join(content, 'index.json'),
    ociLayout: join(content, 'oci-layout'),
    ingest,
    leases: join(ingest, 'leases'),
  };
}

export function blobPathIn(paths: StorePaths, digest: Digest): string {
  const d = parseDigest(digest);
  return join(paths.blobs, digestAlgorithm(d), digestHex(d));
}

/** `ingest/<alg>-<hex>.partial`: bytes of an interrupted download, parked for the next attempt. */
export function partialPathIn(paths: StorePaths, digest: Digest): string {
  const d = parseDigest(digest);
  return join(paths.ingest, `${digestAlgorithm(d)}-${digestHex(d)}.partial`);
}

/** `ingest/<alg>-<hex>.<owner>.<rand>.active`: one live writer's file (owner: lib/process.ts). */
export function activePathIn(paths: StorePaths, digest: Digest, owner: string, nonce: string): string {
  const d = parseDigest(digest);
  return join(paths.ingest, `${digestAlgorithm(d)}-${digestHex(d)}.${owner}.${nonce}.active`);
}

export interface IngestFileName {
  digest: Digest;
  kind: 'partial' | 'active' | 'tmp';
  /** The owner token of the process writing it (absent for a parked partial). */
  owner?: string;
}

const INGEST_NAME = new RegExp(
  `^([a-z0-9]+)-([a-f0-9]+)\\.(?:(partial)|(${OWNER_PATTERN})\\.([a-z0-9]+)\\.(active|tmp))$`,
);

/** Parse a name found in ingest/ (undefined for anything berth did not write). */
export function parseIngestName(name: string): IngestFileName | undefined {
  const m = INGEST_NAME.exec(name);
  if (!m) return undefined;
  const digest = `${m[1]}:${m[2]}`;
  try {
    parseDigest(digest);
  } catch {
    return undefined;
  }
  if (m[3]) return { digest: digest as Digest, kind: 'partial' };
  return { digest: digest as Digest, kind: m[6] as 'active' | 'tmp', owner: m[4] as string };
}
