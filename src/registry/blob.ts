// One blob GET into a BlobSink, resuming from `sink.offset` with Range.
//
// Invariants: the sink never receives more than `desc.size` bytes in total; a response that
// promises a different size (Content-Length, Content-Range total) is refused before its body is
// read; a 200 to a Range request restarts the sink from byte 0. An error the sink throws is
// passed on unchanged (a full disk is not a network problem to retry).
import { BerthError } from '../lib/errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import { isForeignLayerMediaType } from '../oci/media-types.js';
import { statusError, transportError } from './errors.js';
import { abandon, discard } from './response.js';
import { type RegistryResponse, registryGet, type TransportOptions } from './transport.js';
import type { BlobSink, FetchOptions, RepoRef } from './types.js';

/** `registry/repo blob sha256:…`: how errors name a blob. */
export function blobName(repo: RepoRef, desc: Descriptor): string {
  return `${repo.registry}/${repo.repository} blob ${desc.digest}`;
}

class SinkError extends Error {
  constructor(readonly original: unknown) {
    super('sink failed');
  }
}

function sizeMismatch(what: string, why: string): BerthError {
  return new BerthError('ERR_SIZE_MISMATCH', 'integrity', `${what}: ${why}`);
}

/** From status and headers: keep what the sink holds, or restart it; throw when the response is unusable. */
async function prepareSink(
  res: RegistryResponse,
  start: number,
  desc: Descriptor,
  sink: BlobSink,
  what: string,
  now: number,
): Promise<void> {
  const length = res.headers['content-length'];
  if (res.statusCode === 200) {
    if (length !== undefined && Number(length) !== desc.size) {
      throw sizeMismatch(what, `registry offers ${length} bytes, descriptor says ${desc.size}`);
    }
    if (start > 0) await sink.truncate(); // Range ignored: the whole blob comes again
    return;
  }
  if (res.statusCode === 206 && start > 0) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers['content-range']?.trim() ?? '');
    if (m && m[3] !== '*' && Number(m[3]) !== desc.size) {
      throw sizeMismatch(what, `registry offers ${m[3]} bytes, descriptor says ${desc.size}`);
    }
    if (!m || Number(m[1]) !== start) {
      // Not the range we asked for: start over rather than splice bytes from the wrong place.
      await sink.truncate();
      throw new BerthError(
        'ERR_REGISTRY_UNAVAILABLE',
        'unavailable',
        `${what}: bad Content-Range for resume from ${start}; starting over`,
      );
    }
    if (length !== undefined && Number(length) > desc.size - start) {
      throw sizeMismatch(what, `registry offers ${length} bytes from ${start}, descriptor says ${desc.size}`);
    }
    return;
  }
  if (res.statusCode === 416 && start > 0) {
    // The registry's blob ends before our offset: what we hold is not a prefix of it.
    await sink.truncate();
    throw new BerthError(
      'ERR_REGISTRY_UNAVAILABLE',
      'unavailable',
      `${what}: range from ${start} not satisfiable; starting over`,
    );
  }
  if (res.statusCode === 404) {
    // A foreign layer's `urls` are never fetched (a manifest must not send the host anywhere it likes).
    const foreign = isForeignLayerMediaType(desc.mediaType) || (desc.urls?.length ?? 0) > 0;
    throw new BerthError('ERR_BLOB_NOT_FOUND', 'not-found', `${what}: not found`, {
      ...(foreign
        ? { hint: 'a foreign layer: berth fetches it from the registry only, never from its urls' }
        : {}),
    });
  }
  throw statusError(res.statusCode, what, res.headers, now);
}

export async function fetchBlobOnce(
  t: TransportOptions,
  repo: RepoRef,
  desc: Descriptor,
  sink: BlobSink,
  o: FetchOptions,
  progressed: () => void,
): Promise<void> {
  const what = blobName(repo, desc);
  const start = sink.offset;
  if (start === desc.size) return; // everything is held; the caller verifies the digest
  if (start > desc.size) throw sizeMismatch(what, `sink holds ${start} bytes, descriptor says ${desc.size}`);
  const res = await registryGet(t, repo.registry, `/v2/${repo.repository}/blobs/${desc.digest}`, {
    scope: `repository:${repo.repository}:pull`,
    headers: start > 0 ? { range: `bytes=${start}-` } : {},
    signal: o.signal,
    what,
  });
  try {
    await prepareSink(res, start, desc, sink, what, t.now());
  } catch (err) {
    if (res.statusCode === 200 || res.statusCode === 206) abandon(res);
    else await discard(res);
    throw err;
  }
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      if (chunk.length > desc.size - sink.offset) {
        abandon(res);
        throw sizeMismatch(what, `registry sent more than the declared ${desc.size} bytes`);
      }
      try {
        const pending = sink.write(chunk);
        if (pending) await pending;
      } catch (err) {
        throw new SinkError(err);
      }
      progressed();
      o.onProgress?.(sink.offset);
    }
  } catch (err) {
    abandon(res);
    if (err instanceof SinkError) throw err.original;
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
