// The registry client against a registry that misbehaves on purpose: manifests, blobs, retries,
// resume, redirects and transport security. Authentication lives in registry-auth.test.ts.
import { createHash } from 'node:crypto';
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/oci/digest.js';
import { parseManifest } from '../../src/oci/image.js';
import { createRegistryClient } from '../../src/registry/client.js';
import {
  cutMidStream,
  failTimes,
  failure,
  type HostileRegistry,
  ignoreRange,
  putSimpleImage,
  RecordingSink,
  redirectTo,
  serveBody,
  sha256,
  stallBody,
  stallHeaders,
  startHostileRegistry,
} from '../helpers/hostile-registry.js';
import { type Closeable, clientFactory, layerDescriptor } from '../helpers/registry-client.js';

const OCI = 'application/vnd.oci.image.manifest.v1+json';
const SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+prettyjws';
let reg: HostileRegistry;
const cleanup: Closeable[] = [];

beforeEach(async () => {
  reg = await startHostileRegistry();
  cleanup.push(reg);
});
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c.close();
});

const client = clientFactory(cleanup, 3);

const repo = () => ({ registry: reg.host, repository: 'test/app' });
const layer = layerDescriptor;

describe('manifests', () => {
  it('fetches by tag and by digest, accepting schema1 only at the lowest q', async () => {
    const img = putSimpleImage(reg, 'test/app', 'v1', Buffer.from('layer'));
    const byTag = await client().getManifest(repo(), 'v1');
    expect(byTag).toMatchObject({ mediaType: OCI, digest: img.digest });
    expect(byTag.bytes.toString()).toBe(img.manifest);
    expect(reg.requests.at(-1)?.headers.accept).toBe(
      'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, ' +
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, ' +
        'application/vnd.docker.distribution.manifest.v1+json;q=0.1, ' +
        'application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.1',
    );
    expect(reg.requests.at(-1)?.headers['user-agent']).toBe('berth/0.1');
    expect((await client().getManifest(repo(), img.digest)).digest).toBe(img.digest);
    const expected = { mediaType: OCI, digest: img.digest as Digest, size: img.manifest.length };
    expect((await client().getManifest(repo(), img.digest, expected)).digest).toBe(img.digest);
  });

  it('fetches by a sha512 digest, checked and named in sha512 (the image spec registers it)', async () => {
    const img = putSimpleImage(reg, 'test/app', 'v512', Buffer.from('layer'));
    const d512 = `sha512:${createHash('sha512').update(img.manifest).digest('hex')}` as Digest;
    reg.on(`/manifests/${d512}`, serveBody(img.manifest, { 'content-type': OCI }));
    expect((await client().getManifest(repo(), d512)).digest).toBe(d512);
    const wrong = `sha512:${createHash('sha512').update('other').digest('hex')}` as Digest;
    reg.on(`/manifests/${wrong}`, serveBody(img.manifest, { 'content-type': OCI }));
    const err = await failure(client().getManifest(repo(), wrong));
    expect(err.code).toBe('ERR_DIGEST_MISMATCH');
    expect(err.message).toContain(`manifest has digest ${d512}, requested digest is ${wrong}`);
  });

  const body = '{"schemaVersion":2}';
  const other = sha256('other');
  it.each([
    ['wrong bytes for the requested digest', sha256(body), undefined, {}, 'ERR_DIGEST_MISMATCH', 'requested'],
    [
      'a lying Docker-Content-Digest',
      'v1',
      undefined,
      { 'docker-content-digest': other },
      'ERR_DIGEST_MISMATCH',
      other,
    ],
    ['bytes not matching the index', 'v1', { digest: other, size: 19 }, {}, 'ERR_DIGEST_MISMATCH', other],
    [
      'a size not matching the index',
      'v1',
      { digest: sha256(body), size: 18 },
      {},
      'ERR_SIZE_MISMATCH',
      'index says 18',
    ],
    ['no Content-Type', 'v1', undefined, { 'content-type': '' }, 'ERR_MEDIA_TYPE_MISSING', 'Content-Type'],
    ['a schema1 manifest', 'v1', undefined, { 'content-type': SCHEMA1 }, 'ERR_SCHEMA1', 'schema1'],
  ])('refuses %s', async (_name, target, expected, headers, code, detail) => {
    const served = target === 'v1' ? `${body}` : `${body} `;
    reg.on('/manifests/', serveBody(served, { 'content-type': OCI, ...headers }));
    const desc = expected && { mediaType: OCI, ...expected, digest: expected.digest as Digest };
    const err = await failure(client().getManifest(repo(), target, desc));
    expect(err.code).toBe(code);
    expect(err.message).toContain(`${reg.host}/test/app${target === 'v1' ? ':' : '@'}${target}`);
    expect(err.message).toContain(detail);
    expect(reg.requestsTo('/manifests/')).toHaveLength(1); // integrity failures are not retried
  });

  it.each([
    ['declared in Content-Length', { 'content-length': 4 * 1024 * 1024 + 1 }, 1],
    ['streamed without a length', { 'transfer-encoding': 'chunked' }, 4 * 1024 * 1024 + 1],
  ])('refuses a manifest over 4 MiB %s', async (_name, headers, size) => {
    reg.on('/manifests/big', (_req, res) => {
      res.writeHead(200, { 'content-type': OCI, ...headers });
      res.end(Buffer.alloc(size, 0x20));
      return true;
    });
    const err = await failure(client().getManifest(repo(), 'big'));
    expect(err).toMatchObject({ code: 'ERR_MANIFEST_TOO_LARGE', kind: 'limit' });
    expect(err.message).toContain(`${reg.host}/test/app:big`);
  });

  it('returns the served Content-Type (parameters stripped); the caller checks it against the body', async () => {
    const index = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json' });
    reg.on('/manifests/', serveBody(index, { 'content-type': `${OCI}; charset=utf-8` }));
    const got = await client().getManifest(repo(), 'v1');
    expect(got.mediaType).toBe(OCI);
    expect(() => parseManifest(got.bytes, got.mediaType, 'test/app:v1')).toThrow(
      expect.objectContaining({
        code: 'ERR_MEDIA_TYPE_MISMATCH',
        kind: 'integrity',
        message: `test/app:v1: body says mediaType ${'application/vnd.oci.image.index.v1+json'} but it was served as ${OCI}`,
      }),
    );
  });

  it('names the reference on 404, 403 and other 4xx', async () => {
    expect(await failure(client().getManifest(repo(), 'nope'))).toEqual({
      code: 'ERR_MANIFEST_NOT_FOUND',
      kind: 'not-found',
      message: `${reg.host}/test/app:nope: manifest not found`,
    });
    reg.on('/manifests/secret', failTimes(403, 9));
    reg.on('/manifests/odd', failTimes(400, 9));
    expect(await failure(client().getManifest(repo(), 'secret'))).toMatchObject({
      code: 'ERR_FORBIDDEN',
      kind: 'forbidden',
      message: expect.stringContaining(`${reg.host}/test/app:secret`),
    });
    expect(await failure(client().getManifest(repo(), 'odd'))).toMatchObject({
      code: 'ERR_REGISTRY_RESPONSE',
    });
  });

  it('retries 500 and 429, honouring Retry-After up to the cap', async () => {
    putSimpleImage(reg, 'test/app', 'v1', Buffer.from('layer'));
    reg.on('/manifests/v1', failTimes(500, 1));
    reg.on('/manifests/v1', failTimes(429, 1, { 'retry-after': '60' }));
    const delays: number[] = [];
    const c = client({
      sleep: async (ms) => void delays.push(ms),
      random: () => 0.5,
      backoff: { baseMs: 200, maxMs: 5000 },
    });
    await c.getManifest(repo(), 'v1');
    expect(reg.requestsTo('/manifests/v1')).toHaveLength(3);
    expect(delays).toEqual([100, 5000]); // jitter: 0.5 × 200; then Retry-After 60 s capped at maxMs
  });

  it('gives up after the configured retries', async () => {
    reg.on('/manifests/v1', failTimes(503, 99));
    const err = await failure(client({ retries: 2 }).getManifest(repo(), 'v1'));
    expect(err).toMatchObject({ code: 'ERR_REGISTRY_UNAVAILABLE', kind: 'unavailable' });
    expect(err.message).toContain(`${reg.host}/test/app:v1`);
    expect(reg.requestsTo('/manifests/v1')).toHaveLength(3);
  });

  it('fails with ERR_TIMEOUT when headers never come, after retrying', async () => {
    reg.on('/manifests/v1', stallHeaders());
    const err = await failure(client({ idleTimeoutMs: 300, retries: 1 }).getManifest(repo(), 'v1'));
    expect(err).toMatchObject({ code: 'ERR_TIMEOUT', kind: 'unavailable' });
    expect(err.message).toContain(`${reg.host}/test/app:v1`);
    expect(reg.requestsTo('/manifests/v1')).toHaveLength(2);
  });
});

describe('blobs', () => {
  const data = Buffer.alloc(300_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;

  it('streams a blob and reports progress up to its size', async () => {
    const blob = reg.putBlob('test/app', data);
    const sink = new RecordingSink();
    const seen: number[] = [];
    await client().fetchBlob(repo(), layer(blob), sink, { onProgress: (n) => seen.push(n) });
    expect(sha256(sink.bytes())).toBe(blob.digest);
    expect(seen.at(-1)).toBe(data.length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it.each([
    ['cut mid-stream', cutMidStream(data, 100_000, 2)],
    ['stalled mid-stream', stallBody(data, 100_000, 1)],
  ])('resumes a blob %s with Range from what it holds', async (_name, behaviour) => {
    const blob = reg.putBlob('test/app', data);
    reg.on('/blobs/', behaviour);
    const sink = new RecordingSink();
    await client({ idleTimeoutMs: 300 }).fetchBlob(repo(), layer(blob), sink);
    expect(sha256(sink.bytes())).toBe(blob.digest);
    expect(sink.truncations).toBe(0);
    const ranges = reg.requestsTo('/blobs/').map((r) => r.headers.range);
    expect(ranges[0]).toBeUndefined();
    expect(ranges.slice(1).every((r) => /^bytes=[1-9]\d*-$/.test(r ?? ''))).toBe(true);
    expect(ranges.length).toBeGreaterThan(1);
  });

  it('starts over when the server ignores Range', async () => {
    const blob = reg.putBlob('test/app', data);
    reg.on('/blobs/', ignoreRange(data));
    const sink = new RecordingSink();
    sink.write(data.subarray(0, 500));
    await client().fetchBlob(repo(), layer(blob), sink);
    expect(sink.truncations).toBe(1);
    expect(sink.bytes().equals(data)).toBe(true);
    expect(reg.requests.at(-1)?.headers.range).toBe('bytes=500-');
  });

  it('starts over when the Content-Range is not the one asked for', async () => {
    const blob = reg.putBlob('test/app', data);
    reg.on('/blobs/', (_req, res, n) => {
      if (n > 1) return false;
      res.writeHead(206, { 'content-range': `bytes 0-${data.length - 1}/${data.length}` }).end(data);
      return true;
    });
    const sink = new RecordingSink();
    sink.write(data.subarray(0, 10));
    await client().fetchBlob(repo(), layer(blob), sink);
    expect(sink.bytes().equals(data)).toBe(true);
    expect(sink.truncations).toBe(1);
  });

  it('is done without a request when the sink already holds every byte', async () => {
    const blob = reg.putBlob('test/app', 'abc');
    const sink = new RecordingSink();
    sink.write(Buffer.from('abc'));
    await client().fetchBlob(repo(), layer(blob), sink);
    expect(reg.requests).toHaveLength(0);
  });

  it.each([
    ['a longer body than the descriptor', { 'transfer-encoding': 'chunked' }],
    ['a Content-Length other than the descriptor', { 'content-length': 24 }],
  ])('refuses %s without retrying', async (_name, headers) => {
    const blob = reg.putBlob('test/app', 'short');
    reg.on('/blobs/', serveBody('short and then some more', headers));
    const sink = new RecordingSink();
    const err = await failure(client().fetchBlob(repo(), layer(blob), sink));
    expect(err).toMatchObject({ code: 'ERR_SIZE_MISMATCH', kind: 'integrity' });
    expect(err.message).toContain(`${reg.host}/test/app blob ${blob.digest}`);
    expect(sink.offset).toBeLessThanOrEqual(blob.size);
    expect(reg.requestsTo('/blobs/')).toHaveLength(1);
  });

  it('retries 500 then succeeds; reports a missing blob by digest', async () => {
    const blob = reg.putBlob('test/app', data);
    reg.on('/blobs/', failTimes(500, 1));
    const sink = new RecordingSink();
    await client().fetchBlob(repo(), layer(blob), sink);
    expect(sink.bytes().equals(data)).toBe(true);
    const desc = layer({ digest: sha256('absent'), size: 6 });
    expect(await failure(client().fetchBlob(repo(), desc, new RecordingSink()))).toMatchObject({
      code: 'ERR_BLOB_NOT_FOUND',
      kind: 'not-found',
      message: expect.stringContaining(`${reg.host}/test/app blob ${desc.digest}`),
    });
  });

  it('passes a sink failure on unchanged, without retrying', async () => {
    const blob = reg.putBlob('test/app', data);
    const sink = new RecordingSink();
    sink.write = () => {
      throw Object.assign(new Error('no space left'), { code: 'ENOSPC' });
    };
    expect(await failure(client().fetchBlob(repo(), layer(blob), sink))).toMatchObject({ code: 'ENOSPC' });
    expect(reg.requestsTo('/blobs/')).toHaveLength(1);
  });

  it('stops at once when aborted mid-body or during back-off', async () => {
    const blob = reg.putBlob('test/app', data);
    reg.on('/blobs/', stallBody(data, 1000, 1));
    const ac = new AbortController();
    const sink = new RecordingSink();
    const p = client({ idleTimeoutMs: 60_000 }).fetchBlob(repo(), layer(blob), sink, {
      signal: ac.signal,
      onProgress: () => ac.abort(),
    });
    expect(await failure(p)).toMatchObject({ code: 'ERR_ABORTED' });
    const ac2 = new AbortController();
    reg.on('/manifests/', failTimes(503, 1));
    const never = client({ sleep: () => new Promise(() => ac2.abort()) });
    expect(await failure(never.getManifest(repo(), 'v1', undefined, { signal: ac2.signal }))).toMatchObject({
      code: 'ERR_ABORTED',
      message: expect.stringContaining('test/app:v1'),
    });
  });
});

describe('redirects', () => {
  it('follows a redirect to another server', async () => {
    const cdn = await startHostileRegistry();
    cleanup.push(cdn);
    const blob = cdn.putBlob('test/app', 'redirected content');
    reg.on('/blobs/', redirectTo(`${cdn.url}/v2/test/app/blobs/${blob.digest}`));
    const sink = new RecordingSink();
    await client().fetchBlob(repo(), layer(blob), sink);
    expect(sink.bytes().toString()).toBe('redirected content');
  });

  it('stops a redirect loop after maxRedirects', async () => {
    const blob = reg.putBlob('test/app', 'x');
    reg.on(
      '/blobs/',
      redirectTo((path) => path, 302),
    );
    const err = await failure(
      client({ maxRedirects: 3 }).fetchBlob(repo(), layer(blob), new RecordingSink()),
    );
    expect(err.code).toBe('ERR_TOO_MANY_REDIRECTS');
    expect(err.message).toContain(blob.digest);
    expect(reg.requestsTo('/blobs/')).toHaveLength(4);
  });

  it('never follows a redirect to plain http on a host not allowed it', async () => {
    const other = await startHostileRegistry();
    cleanup.push(other);
    const blob = reg.putBlob('test/app', 'x');
    reg.on('/blobs/', redirectTo(`http://localhost:${other.host.split(':')[1]}/blob`));
    const c = client({ isPlainHttpAllowed: (h) => h === reg.host });
    expect((await failure(c.fetchBlob(repo(), layer(blob), new RecordingSink()))).code).toBe(
      'ERR_INSECURE_REDIRECT',
    );
    expect(other.requests).toHaveLength(0);
  });
});

describe('transport', () => {
  it('speaks https to a registry not allowed plain HTTP, and a TLS failure is not retried', async () => {
    const err = await failure(client({ isPlainHttpAllowed: () => false }).getManifest(repo(), 'v1'));
    expect(err).toMatchObject({ code: 'ERR_TLS', kind: 'invalid' });
    expect(err.message).toContain(`${reg.host}/test/app:v1`);
    expect(reg.requests).toHaveLength(0); // a TLS hello is not an HTTP request
  });

  it('talks to Docker Hub at registry-1.docker.io over https', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    cleanup.push(agent);
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI });
    agent
      .get('https://registry-1.docker.io')
      .intercept({ path: '/v2/library/busybox/manifests/latest', method: 'GET' })
      .reply(200, body, { headers: { 'content-type': OCI } });
    const c = createRegistryClient({ dispatcher: agent });
    const got = await c.getManifest({ registry: 'docker.io', repository: 'library/busybox' }, 'latest');
    expect(got.digest).toBe(sha256(body));
  });

  it('sends credentials to a registry named with its default port once it asks for them', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    cleanup.push(agent);
    const pool = agent.get('https://reg.example');
    const path = '/v2/app/manifests/v1';
    const basic = `Basic ${Buffer.from('u:p').toString('base64')}`;
    pool
      .intercept({ path, headers: { authorization: basic } })
      .reply(200, '{}', { headers: { 'content-type': OCI } });
    pool.intercept({ path }).reply(401, '', { headers: { 'www-authenticate': 'Basic realm="x"' } });
    const credentials = () => ({ username: 'u', password: 'p' });
    const c = createRegistryClient({ dispatcher: agent, credentials });
    expect((await c.getManifest({ registry: 'reg.example:443', repository: 'app' }, 'v1')).mediaType).toBe(
      OCI,
    );
  });

  it('reports a refused connection as ERR_REGISTRY_UNAVAILABLE after its retries', async () => {
    const delays: number[] = [];
    const c = client({ retries: 2, sleep: async (ms) => void delays.push(ms) });
    const err = await failure(c.getManifest({ registry: '127.0.0.1:1', repository: 'x' }, 'v1'));
    expect(err).toMatchObject({ code: 'ERR_REGISTRY_UNAVAILABLE', kind: 'unavailable' });
    expect(err.message).toBe('127.0.0.1:1/x:v1: connection refused (ECONNREFUSED)');
    expect(delays).toHaveLength(2);
  });

  it('pings /v2/', async () => {
    await client().ping(reg.host);
    expect(reg.requests.map((r) => r.path)).toEqual(['/v2/']);
  });
});
