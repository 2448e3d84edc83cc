// A small, honest HTTP server that speaks just enough of the distribution API to misbehave on
// purpose where a real registry will not: wrong bytes for a digest, a blob cut mid-stream, 500s,
// 429s, stalls, token auth, Basic auth, redirects, wrong media types, ignored Range. It serves
// what a test puts in it and records every request so tests can assert what the client sent.
//
// Misbehaviour is per route: `reg.on(pathFragment, behaviour)`. The behaviours below are the
// usual ones; a test may also write its own (return true when it answered).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type ServerOptions as TlsOptions } from 'node:https';
import type { Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

/** Decides one response; returning false means "not handled, serve normally". */
export type Behaviour = (req: IncomingMessage, res: ServerResponse, n: number) => boolean | Promise<boolean>;

export interface HostileRegistry {
  host: string;
  url: string;
  requests: RecordedRequest[];
  /** Serve `body` at /v2/<repo>/manifests/<ref> (tag and digest) with `mediaType`. */
  putManifest(repo: string, tags: string[], body: Buffer | string, mediaType: string): string;
  putBlob(repo: string, body: Buffer | string): { digest: string; size: number };
  /**
   * Misbehave for requests whose path includes `match`; `n` counts matching requests from 1.
   * Behaviours run in the order added; `first` puts one ahead of the others (auth guards).
   */
  on(match: string, behaviour: Behaviour, options?: { first?: boolean }): void;
  requestsTo(match: string): RecordedRequest[];
  close(): Promise<void>;
}

export const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * `address`: where to listen (loopback unless a test needs a registry beyond it); `tls`: serve HTTPS
 * with these options (a certificate, and `requestCert` to ask for a client's).
 */
export async function startHostileRegistry(
  options: { address?: string; tls?: TlsOptions } = {},
): Promise<HostileRegistry> {
  const { address = '127.0.0.1', tls } = options;
  const manifests = new Map<string, { body: Buffer; mediaType: string }>();
  const blobs = new Map<string, Buffer>();
  const behaviours: Array<{ match: string; fn: Behaviour; n: number }> = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers });
    for (const b of behaviours) {
      if (path.includes(b.match)) {
        b.n++;
        if (await b.fn(req, res, b.n)) return;
      }
    }
    if (path === '/v2/') return void res.writeHead(200).end('{}');
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/?]+)$/.exec(path.split('?')[0] as string);
    if (!m) return void res.writeHead(404).end();
    const [, repo, kind, ref] = m as unknown as [string, string, string, string];
    if (kind === 'manifests') {
      const found = manifests.get(`${repo}/${ref}`);
      if (!found) return void res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      res.writeHead(200, {
        'content-type': found.mediaType,
        'content-length': found.body.length,
        'docker-content-digest': sha256(found.body),
      });
      return void res.end(found.body);
    }
    const blob = blobs.get(`${repo}/${ref}`);
    if (!blob) return void res.writeHead(404).end();
    serveRange(req, res, blob);
  };
  const server: Server = tls ? createTlsServer(tls, handler) : createServer(handler);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, address, r));
  const { port } = server.address() as { port: number };
  const host = `${address}:${port}`;
  return {
    host,
    url: `${tls ? 'https' : 'http'}://${host}`,
    requests,
    putManifest(repo, tags, body, mediaType) {
      const buf = Buffer.from(body);
      const digest = sha256(buf);
      for (const t of [...tags, digest]) manifests.set(`${repo}/${t}`, { body: buf, mediaType });
      return digest;
    },
    putBlob(repo, body) {
      const buf = Buffer.from(body);
      const digest = sha256(buf);
      blobs.set(`${repo}/${digest}`, buf);
      return { digest, size: buf.length };
    },
    on(match, fn, options = {}) {
      const entry = { match, fn, n: 0 };
      if (options.first) behaviours.unshift(entry);
      else behaviours.push(entry);
    },
    requestsTo(match) {
      return requests.filter((r) => r.path.includes(match));
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The start of `Range: bytes=N-`, or 0. */
export function rangeStart(req: IncomingMessage): number {
  return Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
}

/** Serve a blob honouring `Range: bytes=N-` as a real registry does. */
export function serveRange(req: IncomingMessage, res: ServerResponse, blob: Buffer): void {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (range) {
    const start = Number(range[1]);
    if (start >= blob.length) return void res.writeHead(416).end();
    res.writeHead(206, {
      'content-length': blob.length - start,
      'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}`,
    });
    return void res.end(blob.subarray(start));
  }
  res.writeHead(200, { 'content-length': blob.length, 'content-type': 'application/octet-stream' });
  res.end(blob);
}

/** Answer `status` (with `headers`) to the first `times` requests, then serve normally. */
export function failTimes(status: number, times: number, headers: Record<string, string> = {}): Behaviour {
  return (_req, res, n) => n <= times && Boolean(res.writeHead(status, headers).end());
}

/** Send the requested range's headers and `bytes` bytes of it, then do `then`, on the first `times`. */
function partial(blob: Buffer, bytes: number, times: number, then: (res: ServerResponse) => void): Behaviour {
  return (req, res, n) => {
    if (n > times) return false;
    const start = rangeStart(req);
    const headers: Record<string, string | number> = { 'content-length': blob.length - start };
    if (start > 0) headers['content-range'] = `bytes ${start}-${blob.length - 1}/${blob.length}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    res.write(blob.subarray(start, start + bytes), () => then(res));
    return true;
  };
}

/** Destroy the connection after `bytes` bytes of the body, on the first `times` requests. */
export function cutMidStream(blob: Buffer, bytes: number, times: number): Behaviour {
  return partial(blob, bytes, times, (res) => res.socket?.destroy());
}

/** Send `bytes` bytes of the body and then nothing more (the socket stays open). */
export function stallBody(blob: Buffer, bytes: number, times: number): Behaviour {
  return partial(blob, bytes, times, () => undefined);
}

/** Never answer: no status line, no headers. */
export function stallHeaders(): Behaviour {
  return () => true;
}

/** Answer every request with the whole blob and 200, whatever Range asked for. */
export function ignoreRange(blob: Buffer): Behaviour {
  return (_req, res) => Boolean(res.writeHead(200, { 'content-length': blob.length }).end(blob));
}

/** Answer 200 with `body` and the given headers (wrong bytes, wrong or missing Content-Type, …). */
export function serveBody(body: Buffer | string, headers: Record<string, string | number> = {}): Behaviour {
  return (_req, res) => Boolean(res.writeHead(200, headers).end(body));
}

/** Redirect to `location` (a function of the request path, for loops). */
export function redirectTo(location: string | ((path: string) => string), status = 307): Behaviour {
  return (req, res) => {
    const to = typeof location === 'string' ? location : location(req.url ?? '/');
    return Boolean(res.writeHead(status, { location: to }).end());
  };
}

export type AuthCounter = { tokenRequests: number };

/**
 * Demand a Bearer token on every /v2/ route of `reg`; tokens come from `tokenServer`'s /token
 * (default: `reg` itself), which checks `basic` credentials when given and answers `token` or
 * `access_token`. Tokens carry their scope, so a token for another repository is refused.
 */
export function requireBearer(
  reg: HostileRegistry,
  o: {
    tokenServer?: HostileRegistry;
    basic?: string;
    field?: 'token' | 'access_token';
    expiresIn?: number;
  } = {},
): AuthCounter {
  const counter: AuthCounter = { tokenRequests: 0 };
  const tokenServer = o.tokenServer ?? reg;
  const issued = new Set<string>();
  tokenServer.on(
    '/token',
    (req, res) => {
      counter.tokenRequests++;
      const expected = o.basic ? `Basic ${Buffer.from(o.basic).toString('base64')}` : undefined;
      if (expected && req.headers.authorization !== expected) return Boolean(res.writeHead(401).end());
      const scope = new URL(req.url ?? '/', 'http://x').searchParams.get('scope') ?? '';
      const token = `tok-${counter.tokenRequests}-${scope}`;
      issued.add(token);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ [o.field ?? 'token']: token, expires_in: o.expiresIn ?? 300 }));
      return true;
    },
    { first: true },
  );
  reg.on(
    '/v2/',
    (req, res) => {
      const repo = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(req.url ?? '')?.[1];
      const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
      const ok = issued.has(token) && (repo === undefined || token.includes(`repository:${repo}:pull`));
      if (ok) return false;
      const scope = repo ? `,scope="repository:${repo}:pull"` : '';
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="${tokenServer.url}/token",service="hostile"${scope}`,
      });
      res.end();
      return true;
    },
    { first: true },
  );
  return counter;
}

/** Demand Basic credentials `user:pass` on every /v2/ route. */
export function requireBasic(reg: HostileRegistry, userPass: string): void {
  const expected = `Basic ${Buffer.from(userPass).toString('base64')}`;
  reg.on(
    '/v2/',
    (req, res) => {
      if (req.headers.authorization === expected) return false;
      return Boolean(res.writeHead(401, { 'www-authenticate': 'Basic realm="hostile"' }).end());
    },
    { first: true },
  );
}

/** Build a one-layer OCI image in the server; returns its parts. */
/** One gzip layer; `diffId` matters only to tests that unpack. */
export function putSimpleImage(
  reg: HostileRegistry,
  repo: string,
  tag: string,
  layerBytes: Buffer,
  diffId = sha256('x'),
) {
  const layer = reg.putBlob(repo, layerBytes);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [diffId] },
    }),
  );
  const cfg = reg.putBlob(repo, config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
  });
  const digest = reg.putManifest(repo, [tag], manifest, 'application/vnd.oci.image.manifest.v1+json');
  return { layer, config: cfg, manifest, digest };
}

/** A BlobSink in memory that remembers how often it was told to start over. */
export class RecordingSink {
  chunks: Buffer[] = [];
  offset = 0;
  truncations = 0;
  write(chunk: Uint8Array): void {
    this.chunks.push(Buffer.from(chunk));
    this.offset += chunk.length;
  }
  truncate(): void {
    this.chunks = [];
    this.offset = 0;
    this.truncations++;
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** The coded error a promise rejects with, flattened for assertions; fails if it resolves. */
export async function failure(p: Promise<unknown>): Promise<{ code: string; kind: string; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: unknown; kind?: unknown; message?: unknown };
    return { code: String(e.code), kind: String(e.kind), message: String(e.message) };
  }
  throw new Error('expected a failure, but it succeeded');
}
