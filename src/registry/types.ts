// The registry client's port. Implementations live beside it (client.ts); callers depend on this.
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';

/** A repository on a registry: `registry` is host[:port] as in a Reference (`docker.io` for Hub). */
export interface RepoRef {
  registry: string;
  repository: string;
}

export interface FetchedManifest {
  /** The exact bytes served (at most MAX_MANIFEST_BYTES), already checked against `digest`. */
  bytes: Buffer;
  /** The media type the registry served (Content-Type, parameters stripped). */
  mediaType: string;
  /** sha256 of `bytes`; when fetched by digest, equal to it (or the fetch failed). */
  digest: Digest;
  /** The mirror that served it, when not the registry itself (mirrors.ts). */
  mirror?: string;
}

/**
 * Where blob bytes go. The content store's ingest writer implements it: it hashes what it is given,
 * so the client only has to deliver bytes in order and never more than the descriptor's size.
 */
export interface BlobSink {
  /** Bytes already held from an earlier attempt: the client resumes from here with `Range`. */
  readonly offset: number;
  /** Append bytes at `offset`. */
  write(chunk: Uint8Array): void | Promise<void>;
  /** Forget everything written: the server ignored `Range` and is sending the blob from byte 0. */
  truncate(): void | Promise<void>;
}

export interface FetchOptions {
  signal?: AbortSignal;
  /** Called as bytes arrive, with the total held so far (including resumed bytes). */
  onProgress?: (bytesHeld: number) => void;
  /** Called with the mirror a blob came from (none: the registry itself), before fetchBlob ends. */
  onMirror?: (host: string | undefined) => void;
}

export interface RegistryClient {
  /** `GET /v2/`: reachability and auth. Resolves when the registry answers 200 (after auth). */
  ping(registry: string, options?: FetchOptions): Promise<void>;
  /**
   * GET a manifest or index by tag or digest, with the OCI and Docker schema2 Accept types.
   * `expected`, when given (a descriptor from an index), must match the served size and digest.
   * Throws ERR_SCHEMA1 for schema1, ERR_MANIFEST_TOO_LARGE past 4 MiB, ERR_DIGEST_MISMATCH.
   */
  getManifest(
    repo: RepoRef,
    target: string,
    expected?: Descriptor,
    options?: FetchOptions,
  ): Promise<FetchedManifest>;
  /**
   * Stream a blob into `sink`, starting at `sink.offset`. Reads stop at `desc.size`; a body that
   * runs longer is ERR_SIZE_MISMATCH, a connection that breaks is resumed with `Range`
   * (bounded retries with back-off). The caller verifies the digest when it commits the sink.
   */
  fetchBlob(repo: RepoRef, desc: Descriptor, sink: BlobSink, options?: FetchOptions): Promise<void>;
  /** Release connections. */
  close(): Promise<void>;
}
