import { createServer } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasCode, isBerthError } from '../../src/lib/errors.js';
import type { Descriptor } from '../../src/oci/descriptor.js';
import type { Digest } from '../../src/oci/digest.js';
import { createRegistryClient, type RegistryClientOptions } from '../../src/registry/client.js';
import { parseCredentials } from '../../src/registry/credentials.js';
import type { BlobSink } from '../../src/registry/types.js';
import {
  type HostileRegistry,
  putSimpleImage,
  sha256,
  startHostileRegistry,
} from '../helpers/hostile-registry.js';

class Sink implements BlobSink {
  chunks: Buffer[] = [];
  offset = 0;
  truncations = 0;
  write(chunk: Uint8Array) {
    this.chunks.push(Buffer.from(chunk));
    this.offset += chunk.length;
  }
  truncate() {
    this.chunks = [];
    this.offset = 0;
    this.truncations++;
  }
  bytes() {
    return Buffer.concat(this.chunks);
  }
}

const OCI = 'application/vnd.oci.image.manifest.v1+json';
let reg: HostileRegistry;
const extra: Array<{ close(): Promise<void> | void }> = [];

beforeEach(async () => {
  reg = await startHostileRegistry();
});
afterEach(async () => {
  await reg.close();
  for (const e of extra.splice(0)) await e.close();
});

function client(options: RegistryClientOptions = {}) {
  const c = createRegistryClient({
    sleep: async () => undefined,
    retries: 3,
    idleTimeoutMs: 2000,
    ...options,
  });
  extra.push(c);
  return c;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isBerthError(err)) return `${err.code} ${err.message}`;
    throw err;
  }
  return 'no error';
}

const repo = (r: HostileRegistry) => ({ registry: r.host, repository: 'test/app' });
const layerDesc = (d: { digest: string; size: number }): Descriptor => ({
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
  digest: d.digest as Digest,
  size: d.size,
});

describe('manifests', () => {
  it('fetches by tag and by digest, returning bytes, media type and digest', async () => {
    const img = putSimpleImage(reg, 'test/app', 'v1', Buffer.from('layer'));
    const byTag = await client().getManifest(repo(reg), 'v1');
    expect(byTag).toMatchObject({ mediaType: OCI, digest: img.digest });
    expect(byTag.bytes.toString()).toBe(img.manifest);
    const accept = reg.requests.at(-1)?.headers.accept ?? '';
    expect(accept).toContain('application/vnd.oci.image.index.v1+json');
    expect(accept).toContain('application/vnd.docker.distribution.manifest.list.v2+json');
    expect((await client().getManifest(repo(reg), img.digest)).digest).toBe(img.digest);
  });

  it('refuses a manifest whose bytes do not match the requested digest', async () => {
    const img = putSimpleImage(reg, 'test/app', 'v1', Buffer.from('layer'));
    reg.on('/manifests/sha256:', (_req, res) => {
      res.writeHead(200, { 'content-type': OCI }).end(`${img.manifest} `);
      return true;
    });
    const msg = await codeOf(client().getManifest(repo(reg), img.digest));
    expect(msg).toMatch(/^ERR_DIGEST_MISMATCH /);
    expect(msg).toContain(img.digest);
  });

  it('refuses a manifest larger than 4 MiB', async () => {
    reg.on('/manifests/big', (_req, res) => {
      res.writeHead(200, { 'content-type': OCI }).end(Buffer.alloc(4 * 1024 * 1024 + 10, 0x20));
      return true;
    });
    expect(await codeOf(client().getManifest(repo(reg), 'big'))).toMatch(
      /^ERR_MANIFEST_TOO_LARGE .*test\/app:big/,
    );
  });

  it('names the reference on 404', async () => {
    expect(await codeOf(client().getManifest(repo(reg), 'nope'))).toBe(
      `ERR_MANIFEST_NOT_FOUND ${reg.host}/test/app:nope: manifest not found`,
    );
  });

  it('retries 500 and 429 (with Retry-After), then succeeds', async () => {
    putSimpleImage(reg, 'test/app', 'v1', Buffer.from('layer'));
    reg.on('/manifests/v1', (_req, res, n) => {
      if (n === 1) return Boolean(res.writeHead(500).end());
      if (n === 2) return Boolean(res.writeHead(429, { 'retry-after': '0' }).end());
      return false;
    });
    const delays: number[] = [];
    const c = client({ sleep: async (ms) => void delays.push(ms), random: () => 0.5 });
    await c.getManifest(repo(reg), 'v1');
    expect(reg.requests.filter((r) => r.path.endsWith('/manifests/v1'))).toHaveLength(3);
    expect(delays).toEqual([100, 200]);
  });

  it('gives up after the configured retries', async () => {
    reg.on('/manifests/v1', (_req, res) => Boolean(res.writeHead(503).end()));
    expect(await codeOf(client({ retries: 2 }).getManifest(repo(reg), 'v1'))).toMatch(
      /^ERR_REGISTRY_UNAVAILABLE .*503/,
    );
    expect(reg.requests.filter((r) => r.path.endsWith('/manifests/v1'))).toHaveLength(3);
  });

  it('fails with ERR_TIMEOUT when the registry stalls', async () => {
    reg.on('/manifests/v1', () => true); // never answers
    expect(await codeOf(client({ idleTimeoutMs: 300, retries: 1 }).getManifest(repo(reg), 'v1'))).toMatch(
      /^ERR_TIMEOUT .*test\/app:v1/,
    );
  });
});

describe('blobs', () => {
  it('resumes a blob cut mid-stream with a Range request', async () => {
    const data = Buffer.alloc(300_000, 7);
    const blob = reg.putBlob('test/app', data);
    reg.on('/blobs/', (req, res, n) => {
      if (n > 2) return false;
      const start = Number(/bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
      res.writeHead(start ? 206 : 200, {
        'content-length': data.length - start,
        ...(start ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
      });
      res.write(data.subarray(start, start + 100_000), () => res.socket?.destroy());
      return true;
    });
    const sink = new Sink();
    await client().fetchBlob(repo(reg), layerDesc(blob), sink);
    expect(sha256(sink.bytes())).toBe(blob.digest);
    const ranges = reg.requests.filter((r) => r.path.includes('/blobs/')).map((r) => r.headers.range);
    expect(ranges[0]).toBeUndefined();
    expect(ranges[1]).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(ranges[1] as string)?.[0])).toBeGreaterThan(0);
  });

  it('starts over when the server ignores Range', async () => {
    const data = Buffer.from('0123456789'.repeat(1000));
    const blob = reg.putBlob('test/app', data);
    reg.on('/blobs/', (_req, res) => {
      res.writeHead(200, { 'content-length': data.length }).end(data);
      return true;
    });
    const sink = new Sink();
    sink.write(data.subarray(0, 500));
    await client().fetchBlob(repo(reg), layerDesc(blob), sink);
    expect(sink.truncations).toBe(1);
    expect(sink.bytes().equals(data)).toBe(true);
    expect(reg.requests.at(-1)?.headers.range).toBe('bytes=500-');
  });

  it('stops reading at the declared size', async () => {
    const blob = reg.putBlob('test/app', 'short');
    reg.on('/blobs/', (_req, res) => Boolean(res.writeHead(200).end('short and then some more')));
    const sink = new Sink();
    expect(await codeOf(client().fetchBlob(repo(reg), layerDesc(blob), sink))).toMatch(
      /^ERR_SIZE_MISMATCH .*sha256:/,
    );
    expect(sink.offset).toBeLessThanOrEqual(blob.size);
  });

  it('reports a missing blob by digest', async () => {
    const desc = layerDesc({ digest: sha256('absent'), size: 6 });
    expect(await codeOf(client().fetchBlob(repo(reg), desc, new Sink()))).toMatch(
      new RegExp(`^ERR_BLOB_NOT_FOUND .*${desc.digest}`),
    );
  });

  it('follows a redirect to another host without sending credentials there', async () => {
    const data = Buffer.from('redirected content');
    const blob = reg.putBlob('test/app', data);
    const seen: Array<string | undefined> = [];
    const cdn = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-length': data.length }).end(data);
    });
    await new Promise<void>((r) => cdn.listen(0, '127.0.0.1', r));
    extra.push({ close: () => new Promise<void>((r) => cdn.close(() => r())) });
    const cdnPort = (cdn.address() as { port: number }).port;
    reg.on('/', (req, res) => {
      if (req.headers.authorization !== 'Basic dTpw') {
        return Boolean(res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end());
      }
      if (req.url?.includes('/blobs/')) {
        return Boolean(res.writeHead(307, { location: `http://127.0.0.1:${cdnPort}/cdn/blob` }).end());
      }
      return false;
    });
    const credentials = parseCredentials(
      JSON.stringify({ auths: { [reg.host]: { auth: 'dTpw' } } }),
      'auth.json',
    );
    const sink = new Sink();
    await client({ credentials }).fetchBlob(repo(reg), layerDesc(blob), sink);
    expect(sink.bytes().toString()).toBe('redirected content');
    expect(seen).toEqual([undefined]);
  });

  it('stops a redirect loop', async () => {
    const blob = reg.putBlob('test/app', 'x');
    reg.on('/blobs/', (req, res) => Boolean(res.writeHead(302, { location: req.url }).end()));
    expect(await codeOf(client().fetchBlob(repo(reg), layerDesc(blob), new Sink()))).toMatch(
      /^ERR_TOO_MANY_REDIRECTS /,
    );
  });
});

describe('authentication', () => {
  function requireToken(r: HostileRegistry, creds?: string) {
    let tokenRequests = 0;
    r.on('/token', (req, res) => {
      tokenRequests++;
      const url = new URL(req.url ?? '/', 'http://x');
      if (creds && req.headers.authorization !== `Basic ${creds}`) return Boolean(res.writeHead(401).end());
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: `tok:${url.searchParams.get('scope')}`, expires_in: 300 }));
      return true;
    });
    r.on('/v2/', (req, res) => {
      if (req.headers.authorization === 'Bearer tok:repository:test/app:pull') return false;
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="${r.url}/token",service="hostile",scope="repository:test/app:pull"`,
      });
      res.end();
      return true;
    });
    return () => tokenRequests;
  }

  it('gets a Bearer token anonymously and reuses it', async () => {
    putSimpleImage(reg, 'test/app', 'v1', Buffer.from('layer'));
    const tokens = requireToken(reg);
    const c = client();
    await c.getManifest(repo(reg), 'v1');
    await c.getManifest(repo(reg), 'v1');
    expect(tokens()).toBe(1);
    const tokenReq = reg.requests.find((r) => r.path.startsWith('/token'));
    expect(tokenReq?.path).toContain('service=hostile');
    expect(tokenReq?.headers.authorization).toBeUndefined();
  });

  it('sends Basic credentials to the token realm when it has them', async () => {
    putSimpleImage(reg, 'test/app', 'v1', Buffer.from('layer'));
    requireToken(reg, Buffer.from('alice:s3cret').toString('base64'));
    const credentials = parseCredentials(
      JSON.stringify({ auths: { [`https://${reg.host}`]: { username: 'alice', password: 's3cret' } } }),
      'auth.json',
    );
    await client({ credentials }).getManifest(repo(reg), 'v1');
    const msg = await codeOf(client().getManifest(repo(reg), 'v1'));
    expect(msg).toMatch(/^ERR_UNAUTHORIZED /);
    expect(msg).not.toContain('s3cret');
  });

  it('reports 401 without credentials as ERR_UNAUTHORIZED naming the repository', async () => {
    reg.on('/v2/', (_req, res) =>
      Boolean(res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end()),
    );
    expect(await codeOf(client().getManifest(repo(reg), 'v1'))).toMatch(
      new RegExp(`^ERR_UNAUTHORIZED ${reg.host}/test/app:v1`),
    );
  });

  it('reports 403 as ERR_FORBIDDEN', async () => {
    reg.on('/manifests/', (_req, res) => Boolean(res.writeHead(403).end()));
    expect(await codeOf(client().getManifest(repo(reg), 'v1'))).toMatch(/^ERR_FORBIDDEN /);
  });
});

describe('transport security', () => {
  it('never speaks plain HTTP to a registry that is not allowed to', async () => {
    const msg = await codeOf(
      client({ isPlainHttpAllowed: () => false, retries: 0 }).getManifest(repo(reg), 'v1'),
    );
    expect(msg).not.toBe('no error');
    expect(reg.requests).toHaveLength(0);
  });
});

it('maps errors to kinds that decide retry', async () => {
  const err = await client({ retries: 0 })
    .getManifest({ registry: '127.0.0.1:1', repository: 'x' }, 'v1')
    .catch((e: unknown) => e);
  expect(hasCode(err, 'ERR_REGISTRY_UNAVAILABLE')).toBe(true);
});
