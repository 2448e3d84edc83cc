// Layers written byte by byte (hostile and tricky cases the tools will not produce): a ustar
// writer with PAX records for long or non-ASCII names and xattrs, names as raw bytes, and the
// whole image (layers, config, manifest) pushed to a real registry or put straight into a store.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export type TarType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

export interface TarSpec {
  name: string | Buffer;
  type?: TarType;
  body?: string | Buffer;
  linkname?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds. */
  mtime?: number;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string | Buffer>;
  /** Extra PAX records for this entry. */
  pax?: Record<string, string | Buffer>;
  /** Write a global PAX header ('g') with these records instead of an entry. */
  global?: Record<string, string | Buffer>;
}

const TYPEFLAG: Record<TarType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  directory: '5',
  fifo: '6',
};

export const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const pad512 = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

export function paxRecord(key: string, value: Buffer | string): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** One raw header block; `typeflag` any character (for PAX 'x'/'g', GNU 'L'/'K'). */
export function headerBlock(f: {
  name: Buffer;
  typeflag: string;
  size: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: Buffer;
  devmajor?: number;
  devminor?: number;
}): Buffer {
  const h = Buffer.alloc(512);
  f.name.copy(h, 0, 0, 100);
  const oct = (v: number, off: number, len: number) =>
    h.write(`${v.toString(8).padStart(len - 1, '0')}\0`, off, 'latin1');
  oct(f.mode ?? 0o644, 100, 8);
  oct(f.uid ?? 0, 108, 8);
  oct(f.gid ?? 0, 116, 8);
  oct(f.size, 124, 12);
  oct(f.mtime ?? 1_700_000_000, 136, 12);
  h.write(f.typeflag, 156, 'latin1');
  f.linkname?.copy(h, 157, 0, 100);
  h.write('ustar\0' + '00', 257, 'latin1');
  oct(f.devmajor ?? 0, 329, 8);
  oct(f.devminor ?? 0, 337, 8);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** A whole tar stream (with its end marker). */
export function tarBytes(entries: TarSpec[]): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    if (e.global) {
      const body = Buffer.concat(Object.entries(e.global).map(([k, v]) => paxRecord(k, v)));
      out.push(
        headerBlock({ name: Buffer.from('GlobalHead'), typeflag: 'g', size: body.length }),
        pad512(body),
      );
      continue;
    }
    const type = e.type ?? 'file';
    const name = Buffer.from(e.name);
    const linkname = Buffer.from(e.linkname ?? '');
    const body = type === 'file' ? Buffer.from(e.body ?? '') : Buffer.alloc(0);
    const records: Buffer[] = [];
    if (name.length > 100) records.push(paxRecord('path', name));
    if (linkname.length > 100) records.push(paxRecord('linkpath', linkname));
    for (const [k, v] of Object.entries(e.xattrs ?? {})) records.push(paxRecord(`SCHILY.xattr.${k}`, v));
    for (const [k, v] of Object.entries(e.pax ?? {})) records.push(paxRecord(k, v));
    if (records.length > 0) {
      const pax = Buffer.concat(records);
      out.push(headerBlock({ name: Buffer.from('PaxHeader'), typeflag: 'x', size: pax.length }), pad512(pax));
    }
    out.push(
      headerBlock({
        name,
        typeflag: TYPEFLAG[type],
        size: body.length,
        mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
        ...(e.uid !== undefined ? { uid: e.uid } : {}),
        ...(e.gid !== undefined ? { gid: e.gid } : {}),
        ...(e.mtime !== undefined ? { mtime: e.mtime } : {}),
        linkname,
        ...(e.devmajor !== undefined ? { devmajor: e.devmajor } : {}),
        ...(e.devminor !== undefined ? { devminor: e.devminor } : {}),
      }),
      pad512(body),
    );
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

export interface BuiltLayer {
  blob: Buffer;
  diffId: string;
  mediaType: string;
  /** Foreign / non-distributable layers: where the spec says they may be fetched from. */
  urls?: string[];
}

export const OCI_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

export function gzipLayer(entries: TarSpec[] | Buffer): BuiltLayer {
  const raw = Buffer.isBuffer(entries) ? entries : tarBytes(entries);
  return { blob: gzipSync(raw), diffId: sha256(raw), mediaType: OCI_GZIP };
}

export interface BuiltImage {
  config: Buffer;
  manifest: Buffer;
  layers: BuiltLayer[];
}

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/**
 * `config`: top-level fields of the image config over the defaults (`config`, `rootfs`, `history`…:
 * any JSON, the hostile kind included); `configBytes`: the config blob itself, exactly.
 */
export function buildRawImage(
  layers: BuiltLayer[],
  options: { docker?: boolean; config?: Record<string, unknown>; configBytes?: Buffer } = {},
): BuiltImage {
  const config =
    options.configBytes ??
    Buffer.from(
      JSON.stringify({
        os: 'linux',
        architecture: 'amd64',
        config: { Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        ...options.config,
      }),
    );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: options.docker ? DOCKER_MANIFEST : OCI_MANIFEST,
      config: {
        mediaType: options.docker
          ? 'application/vnd.docker.container.image.v1+json'
          : 'application/vnd.oci.image.config.v1+json',
        digest: sha256(config),
        size: config.length,
      },
      layers: layers.map((l) => ({
        mediaType: l.mediaType,
        digest: sha256(l.blob),
        size: l.blob.length,
        ...(l.urls ? { urls: l.urls } : {}),
      })),
    }),
  );
  return { config, manifest, layers };
}

async function pushBlob(registryUrl: string, repo: string, blob: Buffer): Promise<void> {
  const start = await fetch(`${registryUrl}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`start upload: ${start.status}`);
  const location = new URL(start.headers.get('location') as string, registryUrl);
  location.searchParams.set('digest', sha256(blob));
  const put = await fetch(location, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: blob,
  });
  if (put.status !== 201) throw new Error(`upload: ${put.status} ${await put.text()}`);
}

/** Push an image to a real registry as `repo:tag`. */
export async function pushRawImage(
  registryUrl: string,
  repo: string,
  tag: string,
  image: BuiltImage,
): Promise<void> {
  for (const l of image.layers) await pushBlob(registryUrl, repo, l.blob);
  await pushBlob(registryUrl, repo, image.config);
  await putManifest(registryUrl, repo, tag, image.manifest);
}

/** PUT a manifest or index (its media type read from its own mediaType field); returns its digest. */
export async function putManifest(
  registryUrl: string,
  repo: string,
  tag: string,
  body: Buffer,
): Promise<string> {
  const res = await fetch(`${registryUrl}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': JSON.parse(body.toString()).mediaType },
    body,
  });
  if (res.status !== 201) throw new Error(`PUT manifest: ${res.status} ${await res.text()}`);
  return sha256(body);
}
