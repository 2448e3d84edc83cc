// The content store's port: a plain OCI image layout under `<root>/content`, downloads staged in
// `<root>/ingest`. Invariants: a blob is visible under blobs/ only after its size and digest were
// verified and it was fsynced; index.json is replaced atomically; a killed process leaves a store
// that the next process can use and finish.
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import type { BlobSink } from '../registry/types.js';

export interface IngestWriter extends BlobSink {
  readonly descriptor: Descriptor;
  /** The file the bytes go to until commit renames it into blobs/ (for followers). */
  readonly path: string;
  /** Written bytes and final state, shared with followers (see ingest-progress.ts). */
  readonly progress: SharedArrayBuffer;
  /**
   * Verify size and digest, fsync, rename into blobs/. Always closes the writer, even on error:
   * on a mismatch the partial data is discarded (ERR_DIGEST_MISMATCH / ERR_SIZE_MISMATCH naming the
   * digest). Committing a blob that another process committed meanwhile succeeds.
   */
  commit(): Promise<void>;
  /** Close without committing. `keepPartial` parks the bytes so the next ingest resumes them. */
  abort(keepPartial: boolean): Promise<void>;
}

/** One entry of index.json: an image by its full normalised reference. */
export interface ImageRecord {
  /** `org.opencontainers.image.ref.name`: the full normalised reference, e.g. docker.io/library/busybox:latest. */
  name: string;
  /** The platform-specific image manifest. */
  target: Descriptor;
  /** The digest the tag resolved to at the registry (an index, or the manifest itself). */
  repoDigest: Digest;
  pulledAt: string;
  lastUsedAt?: string;
  /** Set on an entry kept when its name moved to another digest (`keep` of an Image): that name. */
  previousOf?: string;
  /** When `previousOf`'s name moved away from this digest. */
  replacedAt?: string;
}

export interface PutImageOptions {
  /**
   * When the name already holds another digest, keep that entry as `registry/repo@repoDigest`
   * (previousOf = the name) instead of dropping it, so its content outlives GC until trimmed.
   */
  keepPrevious?: boolean;
}

/** Keeps content from garbage collection while an operation that has not set a ref yet runs. */
export interface Lease {
  /** Record a digest before writing or relying on it. */
  add(digest: Digest): Promise<void>;
  release(): Promise<void>;
}

export interface GcResult {
  removedBlobs: Digest[];
  freedBytes: number;
}

export interface ContentStore {
  readonly root: string;
  has(digest: Digest): Promise<boolean>;
  /** Size of a committed blob, or undefined. */
  size(digest: Digest): Promise<number | undefined>;
  blobPath(digest: Digest): string;
  /** Read a whole blob, refusing more than `maxBytes` (manifests, configs). ERR_BLOB_NOT_FOUND. */
  readBlob(digest: Digest, maxBytes: number): Promise<Buffer>;
  /** Store bytes already in memory (manifests, configs), verified against `desc`. */
  putBlob(desc: Descriptor, bytes: Uint8Array): Promise<void>;
  /** Start or resume a download of `desc`; one writer per call (races are safe: first rename wins). */
  openIngest(desc: Descriptor): Promise<IngestWriter>;
  /** A live download of `digest` by any process (this one too): its file and bytes so far. */
  liveWriter(digest: Digest): Promise<{ path: string; held: number } | undefined>;
  listImages(): Promise<ImageRecord[]>;
  /** The image `name` means (image-names.ts): ERR_AMBIGUOUS when index.json gives it to entries of two digests. */
  getImage(name: string): Promise<ImageRecord | undefined>;
  /** Add or replace the entry named `record.name` (under the store lock, atomic rewrite). */
  putImage(record: ImageRecord, options?: PutImageOptions): Promise<void>;
  /**
   * Record that a container was created from or started with the image `name` (LAST USED), unless
   * the recorded time is less than `minIntervalMs` old (a restart loop rewrites nothing).
   */
  markUsed(name: string, at: Date, minIntervalMs: number): Promise<void>;
  /** Remove an entry; returns false when there was none. */
  removeImage(name: string): Promise<boolean>;
  createLease(): Promise<Lease>;
  /**
   * Remove every blob no image reaches (and stale ingest leftovers); waits for live leases.
   * `alsoSweep` runs under the same lock, in the same quiet moment (no pull in flight), for what
   * other stores keep on behalf of images (snapshots).
   */
  gc(alsoSweep?: () => Promise<void>): Promise<GcResult>;
  /** Park dead writers' downloads for resume and drop leftovers of crashed processes. */
  cleanIngest(): Promise<void>;
}
