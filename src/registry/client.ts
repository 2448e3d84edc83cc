// The OCI distribution client: manifests and blobs over undici, verified as they stream.
//
// Folder map: challenge.ts (WWW-Authenticate), credentials.ts (docker config.json), auth.ts
// (tokens per scope), transport.ts (one GET: scheme, auth, redirects), retry.ts (back-off),
// errors.ts (statuses and socket errors → coded errors), client.ts (this: the RegistryClient).
//
// Invariants: plain HTTP only to loopback or configured registries; credentials only to their
// registry (and its token realm), never across a redirect to another host, never in messages;
// reads stop at the declared size; manifests are capped at 4 MiB and checked against their digest.
import { Agent, type Dispatcher } from 'undici';
import { BerthError } from '../lib/errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import { type Digest, isDigest, sha256Of } from '../oci/digest.js';
import { MAX_MANIFEST_BYTES } from '../oci/image.js';
import { MANIFEST_ACCEPT, normalizeContentType, SCHEMA1_MEDIA_TYPES } from '../oci/media-types.js';
import { isLoopbackRegistry } from '../oci/reference.js';
import { AuthCache } from './auth.js';
import { type CredentialLookup, NO_CREDENTIALS } from './credentials.js';
import { statusError, transportError } from './errors.js';
import { type RetryPolicy, withRetries } from './retry.js';
import { type RegistryResponse, registryGet, type TransportOptions } from './transport.js';
import type { BlobSink, FetchedManifest, FetchOptions, RegistryClient, RepoRef } from './types.js';

export interface RegistryClientOptions {
  credentials?: CredentialLookup;
  isPlainHttpAllowed?: (registry: string) => boolean;
  dispatcher?: Dispatcher;
  maxRedirects?: number;
  /** A stall this long (no headers, or no body bytes) fails the attempt. */
  idleTimeoutMs?: number;
  retries?: number;
  backoff?: { baseMs: number; maxMs: number };
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  userAgent?: string;
}

const ACCEPT = [...MANIFEST_ACCEPT, ...SCHEMA1_MEDIA_TYPES.map((t) => `${t};q=0.1`)].join(', ');

export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const idle = options.idleTimeoutMs ?? 30_000;
  const ownDispatcher = options.dispatcher
    ? undefined
    : new Agent({
        headersTimeout: idle,
        bodyTimeout: idle,
        connectTimeout: Math.min(idle, 10_000),
        connections: 16,
      });
  const dispatcher = options.dispatcher ?? (ownDispatcher as Agent);
  const userAgent = options.userAgent ?? 'berth/0.1';
  const transport: TransportOptions = {
    dispatcher,
    auth: new AuthCache({
      credentials: options.credentials ?? NO_CREDENTIALS,
      dispatcher,
      now: options.now ?? Date.now,
      userAgent,
    }),
    isPlainHttpAllowed: options.isPlainHttpAllowed ?? isLoopbackRegistry,
    maxRedirects: options.maxRedirects ?? 5,
    userAgent,
  };
  const policy: RetryPolicy = {
    retries: options.retries ?? 4,
    baseMs: options.backoff?.baseMs ?? 200,
    maxMs: options.backoff?.maxMs ?? 5000,
    sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    random: options.random ?? Math.random,
  };
  const scopeOf = (repo: RepoRef) => `repository:${repo.repository}:pull`;

  async function getManifestOnce(
    repo: RepoRef,
    target: string,
    expected: Descriptor | undefined,
    o: FetchOptions,
  ) {
    const what = isDigest(target)
      ? `${repo.registry}/${repo.repository}@${target}`
      : `${repo.registry}/${repo.repository}:${target}`;
    const res = await registryGet(transport, repo.registry, `/v2/${repo.repository}/manifests/${target}`, {
      scope: scopeOf(repo),
      headers: { accept: ACCEPT },
      signal: o.signal,
      what,
    });
    if (res.statusCode === 404) {
      await res.body.dump().catch(() => undefined);
      throw new BerthError('ERR_MANIFEST_NOT_FOUND', 'not-found', `${what}: manifest not found`);
    }
    if (res.statusCode !== 200) {
      await res.body.dump().catch(() => undefined);
      throw statusError(res.statusCode, what, res.headers);
    }
    const declared = Number(res.headers['content-length'] ?? Number.NaN);
    const limit = expected ? Math.min(expected.size, MAX_MANIFEST_BYTES) : MAX_MANIFEST_BYTES;
    if (declared > MAX_MANIFEST_BYTES) {
      res.body.destroy();
      throw tooLarge(what);
    }
    const bytes = await readCapped(res, limit, what, expected !== undefined);
    const mediaType = normalizeContentType(res.headers['content-type']);
    if (!mediaType)
      throw new BerthError('ERR_MEDIA_TYPE_MISSING', 'integrity', `${what}: served without Content-Type`);
    const digest = sha256Of(bytes);
    const pinned: Array<[string, string | undefined]> = [
      ['requested', isDigest(target) ? target : undefined],
      ['index', expected?.digest],
      [
        'Docker-Content-Digest',
        res.headers['docker-content-digest']?.startsWith('sha256:')
          ? res.headers['docker-content-digest']
          : undefined,
      ],
    ];
    for (const [source, want] of pinned) {
      if (want !== undefined && want !== digest) {
        throw new BerthError(
          'ERR_DIGEST_MISMATCH',
          'integrity',
          `${what}: manifest has digest ${digest}, ${source} digest is ${want}`,
        );
      }
    }
    if (expected && bytes.length !== expected.size) {
      throw new BerthError(
        'ERR_SIZE_MISMATCH',
        'integrity',
        `${what}: manifest is ${bytes.length} bytes, index says ${expected.size}`,
      );
    }
    return { bytes, mediaType, digest: digest as Digest };
  }

  async function fetchBlobOnce(
    repo: RepoRef,
    desc: Descriptor,
    sink: BlobSink,
    o: FetchOptions,
    progressed: () => void,
  ) {
    const what = `${repo.registry}/${repo.repository} blob ${desc.digest}`;
    const start = sink.offset;
    if (start === desc.size) return;
    const headers: Record<string, string> = {};
    if (start > 0) headers.range = `bytes=${start}-`;
    const res = await registryGet(transport, repo.registry, `/v2/${repo.repository}/blobs/${desc.digest}`, {
      scope: scopeOf(repo),
      headers,
      signal: o.signal,
      what,
    });
    if (res.statusCode === 206 && start > 0) {
      const m = /^bytes (\d+)-/.exec(res.headers['content-range'] ?? '');
      if (!m || Number(m[1]) !== start) {
        await res.body.dump().catch(() => undefined);
        await sink.truncate();
        throw new BerthError(
          'ERR_REGISTRY_UNAVAILABLE',
          'unavailable',
          `${what}: bad Content-Range for resume; starting over`,
        );
      }
    } else if (res.statusCode === 200) {
      if (start > 0) await sink.truncate();
    } else if (res.statusCode === 416 && start > 0) {
      await res.body.dump().catch(() => undefined);
      await sink.truncate();
      throw new BerthError(
        'ERR_REGISTRY_UNAVAILABLE',
        'unavailable',
        `${what}: range not satisfiable; starting over`,
      );
    } else {
      await res.body.dump().catch(() => undefined);
      if (res.statusCode === 404)
        throw new BerthError('ERR_BLOB_NOT_FOUND', 'not-found', `${what}: not found`);
      throw statusError(res.statusCode, what, res.headers);
    }
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        if (sink.offset + chunk.length > desc.size) {
          res.body.destroy();
          throw new BerthError(
            'ERR_SIZE_MISMATCH',
            'integrity',
            `${what}: registry sent more than the declared ${desc.size} bytes`,
          );
        }
        const pending = sink.write(chunk);
        if (pending) await pending;
        progressed();
        o.onProgress?.(sink.offset);
      }
    } catch (err) {
      throw transportError(err, what);
    }
    if (sink.offset < desc.size) {
      throw new BerthError(
        'ERR_BLOB_TRUNCATED',
        'unavailable',
        `${what}: connection ended at ${sink.offset} of ${desc.size} bytes`,
      );
    }
  }

  return {
    async ping(registry, o = {}) {
      const what = `registry ${registry}`;
      await withRetries(policy, o.signal, async () => {
        const res = await registryGet(transport, registry, '/v2/', { scope: '', signal: o.signal, what });
        await res.body.dump().catch(() => undefined);
        if (res.statusCode !== 200) throw statusError(res.statusCode, what, res.headers);
      });
    },
    getManifest(repo, target, expected, o = {}): Promise<FetchedManifest> {
      return withRetries(policy, o.signal, () => getManifestOnce(repo, target, expected, o));
    },
    fetchBlob(repo, desc, sink, o = {}) {
      // Progress means bytes beyond the furthest point any attempt reached: a server that keeps
      // resending the start and stalling must not keep the retries going forever.
      let furthest = sink.offset;
      return withRetries(policy, o.signal, (progressed) =>
        fetchBlobOnce(repo, desc, sink, o, () => {
          if (sink.offset > furthest) {
            furthest = sink.offset;
            progressed();
          }
        }),
      );
    },
    async close() {
      await ownDispatcher?.close();
    },
  };
}

function tooLarge(what: string): BerthError {
  return new BerthError(
    'ERR_MANIFEST_TOO_LARGE',
    'limit',
    `${what}: manifest larger than ${MAX_MANIFEST_BYTES} bytes`,
  );
}

/** Read a manifest body, refusing more than `limit` bytes (stop reading at limit + 1). */
async function readCapped(
  res: RegistryResponse,
  limit: number,
  what: string,
  fromIndex: boolean,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > limit) {
        res.body.destroy();
        if (fromIndex && limit < MAX_MANIFEST_BYTES) {
          throw new BerthError(
            'ERR_SIZE_MISMATCH',
            'integrity',
            `${what}: manifest is larger than the ${limit} bytes the index says`,
          );
        }
        throw tooLarge(what);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    throw transportError(err, what);
  }
  return Buffer.concat(chunks);
}
