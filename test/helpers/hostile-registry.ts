// A small, honest HTTP server that speaks just enough of the distribution API to misbehave on
// purpose where a real registry will not: wrong bytes for a digest, a blob cut mid-stream, 500s,
// 429s, stalls, token auth, redirects, wrong media types. It serves what a test puts in it and
// records every request so tests can assert what the client sent.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

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
  /** Misbehave for requests whose path includes `match`; `n` counts matching requests from 1. */
  on(match: string, behaviour: Behaviour): void;
  close(): Promise<void>;
}

export const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function startHostileRegistry(): Promise<HostileRegistry> {
  const manifests = new Map<string, { body: Buffer; mediaType: string }>();
  const blobs = new Map<string, Buffer>();
  const behaviours: Array<{ match: string; fn: Behaviour; n: number }> = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();

  const server: Server = createServer(async (req, res) => {
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
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const host = `127.0.0.1:${port}`;
  return {
    host,
    url: `http://${host}`,
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
    on(match, fn) {
      behaviours.push({ match, fn, n: 0 });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
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

/** Build a one-layer OCI image in the server; returns its parts. */
export function putSimpleImage(reg: HostileRegistry, repo: string, tag: string, layerBytes: Buffer) {
  const layer = reg.putBlob(repo, layerBytes);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [sha256('x')] },
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
