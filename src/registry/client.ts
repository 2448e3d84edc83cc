// The OCI distribution client: manifests and blobs over undici, verified as they stream.
//
// What src/registry owns, one concept per file:
//   types.ts        the port (RegistryClient, BlobSink, FetchedManifest); callers depend on it only
//   client.ts       this: createRegistryClient, options and wiring, retries around each operation
//   manifest.ts     one manifest GET: Accept, 4 MiB cap, digest checks (no JSON parsing)
//   blob.ts         one blob GET into a sink: Range resume, size bound
//   transport.ts    one GET: scheme, Authorization, 401 → auth, redirects, stall timeouts
//   response.ts     bodies: bounded read, drain, drop
//   auth.ts         per-registry auth state: challenges → Bearer tokens per scope, or Basic
//   token.ts        one request to a token realm
//   challenge.ts    WWW-Authenticate parsing (pure)
//   credentials.ts  docker-style config.json → credentials by registry host
//   retry.ts        bounded back-off with full jitter; errors.ts statuses/sockets → coded errors
//   mirrors.ts      a client over several endpoints: mirrors in order, then the registry itself
//   pull-secrets.ts a pod's imagePullSecrets → credentials for the registries they name (pure)
//   undici-core.ts  only undici's Agent and request modules (typed by undici-modules.d.ts)
//
// Invariants: plain HTTP only to registries `isPlainHttpAllowed` accepts (loopback by default),
// never because a redirect asked; credentials only to their registry and the token realm it
// named, never across a redirect to another host, never in messages; a blob never delivers more
// than its descriptor's size; a manifest is capped at MAX_MANIFEST_BYTES and checked against every
// digest it was promised. Only kind 'unavailable' is retried. The caller limits concurrency.
import type { Dispatcher } from 'undici';
import { isLoopbackRegistry } from '../oci/reference.js';
import { AuthCache } from './auth.js';
import { blobName, fetchBlobOnce } from './blob.js';
import { type CredentialLookup, NO_CREDENTIALS } from './credentials.js';
import { statusError } from './errors.js';
import { getManifestOnce, manifestName } from './manifest.js';
import { discard } from './response.js';
import { type RetryPolicy, withRetries } from './retry.js';
import { registryGet, type TransportOptions } from './transport.js';
import type { FetchedManifest, RegistryClient } from './types.js';
import { Agent } from './undici-core.js';

export interface RegistryClientOptions {
  /** Credentials by registry host (see credentials.ts); none by default. */
  credentials?: CredentialLookup;
  /** Registries that speak plain HTTP. Default: loopback only; callers add configured hosts. */
  isPlainHttpAllowed?: (registry: string) => boolean;
  /** For tests (undici MockAgent) or shared pools; otherwise the client owns an Agent. */
  dispatcher?: Dispatcher;
  /** Redirects followed per request (default 5). */
  maxRedirects?: number;
  /** A stall this long (no headers, or no body bytes) fails the attempt: ERR_TIMEOUT (default 30 s). */
  idleTimeoutMs?: number;
  /** Retries after a transient failure, counted since the last progress (default 4). */
  retries?: number;
  /** Exponential back-off with full jitter (default 200 ms doubling up to 5 s). */
  backoff?: { baseMs: number; maxMs: number };
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  userAgent?: string;
  /** Extra request headers for the registry's own origin (host config). */
  headers?: Record<string, string>;
  /** TLS for the connections this client's own Agent makes: a CA bundle, a client certificate, no verification. */
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized?: boolean };
}

export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  const ownDispatcher = options.dispatcher
    ? undefined
    : new Agent({
        headersTimeout: idleTimeoutMs,
        bodyTimeout: idleTimeoutMs,
        connectTimeout: Math.min(idleTimeoutMs, 10_000),
        connections: 16,
        ...(options.tls ? { connect: { ...options.tls } } : {}),
      });
  const dispatcher = options.dispatcher ?? (ownDispatcher as Agent);
  const userAgent = options.userAgent ?? 'berth/0.1';
  const now = options.now ?? Date.now;
  const isPlainHttpAllowed = options.isPlainHttpAllowed ?? isLoopbackRegistry;
  const transport: TransportOptions = {
    dispatcher,
    auth: new AuthCache({
      credentials: options.credentials ?? NO_CREDENTIALS,
      dispatcher,
      isPlainHttpAllowed,
      idleTimeoutMs,
      now,
      userAgent,
    }),
    isPlainHttpAllowed,
    maxRedirects: options.maxRedirects ?? 5,
    idleTimeoutMs,
    now,
    userAgent,
    ...(options.headers ? { extraHeaders: options.headers } : {}),
  };
  const policy: RetryPolicy = {
    retries: options.retries ?? 4,
    baseMs: options.backoff?.baseMs ?? 200,
    maxMs: options.backoff?.maxMs ?? 5000,
    sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    random: options.random ?? Math.random,
  };

  return {
    async ping(registry, o = {}) {
      const what = `registry ${registry}`;
      await withRetries(policy, o.signal, what, async () => {
        const res = await registryGet(transport, registry, '/v2/', { scope: '', signal: o.signal, what });
        await discard(res);
        if (res.statusCode !== 200) throw statusError(res.statusCode, what, res.headers, now());
      });
    },
    getManifest(repo, target, expected, o = {}): Promise<FetchedManifest> {
      return withRetries(policy, o.signal, manifestName(repo, target), () =>
        getManifestOnce(transport, repo, target, expected, o.signal),
      );
    },
    fetchBlob(repo, desc, sink, o = {}) {
      // Progress means bytes beyond the furthest point any attempt reached: a server that keeps
      // resending the start and then stalling must not keep the retries going forever.
      let furthest = sink.offset;
      return withRetries(policy, o.signal, blobName(repo, desc), (progressed) =>
        fetchBlobOnce(transport, repo, desc, sink, o, () => {
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
