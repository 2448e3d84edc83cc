// The pure pieces of image import/export, mirrors and image GC, table-driven.
import type { FileHandle } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createArchiveRegistry } from '../../src/archive/archive-registry.js';
import { parseDockerManifest, readDockerArchive } from '../../src/archive/docker-archive.js';
import { archiveMetadata, familiarName } from '../../src/archive/export-images.js';
import type { ArchiveFiles } from '../../src/archive/files.js';
import type { ImageSet } from '../../src/archive/image-set.js';
import { namedAs } from '../../src/archive/import-images.js';
import { preferLayout, type SetFacts } from '../../src/archive/layout-or-docker.js';
import { nameOfEntry } from '../../src/archive/oci-layout.js';
import {
  cleanArchivePath,
  indexTar,
  resolveArchiveFile,
  type TarIndexEntry,
} from '../../src/archive/tar-index.js';
import { TarWriter } from '../../src/archive/tar-writer.js';
import { imagesWanted } from '../../src/cli/image-gc.js';
import { isArchiveName } from '../../src/cli/import-dir.js';
import { sourcePath } from '../../src/cli/reconcile-pull.js';
import { entriesAfterPut, entryToRecord, previousName, recordToEntry } from '../../src/content/index-file.js';
import type { ImageDetails } from '../../src/images/describe.js';
import type { ManifestDoc } from '../../src/manifest/kinds.js';
import { digestOf, sha256Of } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { rewriteRepository } from '../../src/registry/mirrors.js';
import { headerBlock, paxRecord } from '../helpers/tar-bytes.js';

const entry = (name: string, type: TarIndexEntry['type'], linkname = ''): [string, TarIndexEntry] => [
  name,
  { name, type, offset: 512, size: 1, linkname },
];

describe('archive names', () => {
  it.each([
    ['./blobs//sha256/ab/', 'blobs/sha256/ab'],
    ['manifest.json', 'manifest.json'],
    ['.', ''],
  ])('cleans %j to %j', (name, clean) => {
    expect(cleanArchivePath(name, 'a.tar')).toBe(clean);
  });

  it.each([
    ['/etc/passwd', 'absolute name "/etc/passwd"'],
    ['a/../../b', 'name "a/../../b" climbs out with ..'],
    ['a/../b', 'name "a/../b" climbs out with ..'],
  ])('refuses %j', (name, why) => {
    expect(() => cleanArchivePath(name, 'a.tar')).toThrow(`a.tar: ${why}`);
  });

  const entries = new Map([
    entry('blobs/sha256/x', 'file'),
    entry('id/layer.tar', 'symlink', '../blobs/sha256/x'),
    entry('hard', 'link', 'blobs/sha256/x'),
    entry('up', 'symlink', '../../etc/passwd'),
    entry('host', 'symlink', '/etc/passwd'),
    entry('loop1', 'symlink', 'loop2'),
    entry('loop2', 'symlink', 'loop1'),
    entry('dev', 'other'),
  ]);
  it('a name given as a GNU long one and in PAX is the GNU one; a global PAX header drops what came before it, as docker load reads them', async () => {
    const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
    const meta = (typeflag: string, body: Buffer) =>
      Buffer.concat([headerBlock({ name: Buffer.from('meta'), typeflag, size: body.length }), pad(body)]);
    const file = (name: string) =>
      Buffer.concat([
        headerBlock({ name: Buffer.from(name), typeflag: '0', size: 1 }),
        pad(Buffer.from('x')),
      ]);
    const tar = Buffer.concat([
      meta('x', paxRecord('path', 'pax.json')),
      meta('L', Buffer.from('manifest.json\0')),
      file('short'),
      meta('L', Buffer.from('dropped.json\0')),
      meta('g', paxRecord('comment', 'x')),
      file('index.json'),
      Buffer.alloc(1024),
    ]);
    const index = await indexTar(async (at, length) => tar.subarray(at, at + length), tar.length, 'a.tar');
    expect([...index.keys()]).toEqual(['manifest.json', 'index.json']);
  });

  it("a PAX record with an empty value keeps the header's name and size, as docker load reads it", async () => {
    const body = Buffer.concat([paxRecord('path', ''), paxRecord('size', '')]);
    const tar = Buffer.concat([
      headerBlock({ name: Buffer.from('meta'), typeflag: 'x', size: body.length }),
      body,
      Buffer.alloc(512 - body.length),
      headerBlock({ name: Buffer.from('manifest.json'), typeflag: '0', size: 1 }),
      Buffer.from('x'),
      Buffer.alloc(511 + 1024),
    ]);
    // The name was '' (skipped as the archive's root), the size 0 ('PAX size differs').
    const index = await indexTar(async (at, length) => tar.subarray(at, at + length), tar.length, 'a.tar');
    expect([...index.values()].map((e) => [e.name, e.size])).toEqual([['manifest.json', 1]]);
  });

  it('a size field starting with NULs is read as docker load reads it, not as 0 (the data then read as headers)', async () => {
    const h = headerBlock({ name: Buffer.from('manifest.json'), typeflag: '0', size: 5 });
    h.write('\0\0\0\x000000005\0', 124, 12, 'latin1');
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    const tar = Buffer.concat([h, Buffer.from('hello'), Buffer.alloc(507 + 1024)]);
    const index = await indexTar(async (at, length) => tar.subarray(at, at + length), tar.length, 'a.tar');
    expect([...index.values()].map((e) => [e.name, e.size])).toEqual([['manifest.json', 5]]);
  });

  it("a file's PAX size is its data's, as docker load reads it: a layer past 8 GiB has 0 in its header (Go's writer)", async () => {
    const size = paxRecord('size', '1000');
    const tar = Buffer.concat([
      headerBlock({ name: Buffer.from('meta'), typeflag: 'x', size: size.length }),
      size,
      Buffer.alloc(512 - size.length),
      headerBlock({ name: Buffer.from('big/layer.tar'), typeflag: '0', size: 0 }),
      Buffer.alloc(1024, 'l'),
      headerBlock({ name: Buffer.from('manifest.json'), typeflag: '0', size: 2 }),
      Buffer.from('[]'),
      Buffer.alloc(510 + 1024),
    ]);
    const index = await indexTar(async (at, length) => tar.subarray(at, at + length), tar.length, 'a.tar');
    expect([...index.values()].map((e) => [e.name, e.offset, e.size])).toEqual([
      ['big/layer.tar', 1536, 1000],
      ['manifest.json', 3072, 2],
    ]);
    for (const bad of ['+5', '-5', '1e3', '99999999999999999999']) {
      const record = paxRecord('size', bad);
      const damaged = Buffer.concat([
        headerBlock({ name: Buffer.from('meta'), typeflag: 'x', size: record.length }),
        record,
        Buffer.alloc(512 - record.length),
        headerBlock({ name: Buffer.from('f'), typeflag: '0', size: 0 }),
        Buffer.alloc(1024),
      ]);
      await expect(
        indexTar(async (at, length) => damaged.subarray(at, at + length), damaged.length, 'a.tar'),
      ).rejects.toThrow(`a.tar: malformed tar: bad PAX size "${bad}" of "f"`);
    }
  });

  it('a link, directory or device declaring a size holds no data, as in Go: the next block is a header', async () => {
    const tar = Buffer.concat([
      headerBlock({
        name: Buffer.from('l'),
        typeflag: '2',
        size: 512,
        linkname: Buffer.from('manifest.json'),
      }),
      headerBlock({ name: Buffer.from('d/'), typeflag: '5', size: 512 }),
      headerBlock({ name: Buffer.from('v7dir/'), typeflag: '\0', size: 512 }),
      headerBlock({ name: Buffer.from('fifo'), typeflag: '6', size: 512 }),
      headerBlock({ name: Buffer.from('manifest.json'), typeflag: '0', size: 2 }),
      Buffer.from('[]'),
      Buffer.alloc(510 + 1024),
    ]);
    // Before, each size was skipped as data: the headers after it, which docker load reads, were
    // passed by as the symlink's data (and the directories' taken as entries of their own).
    const index = await indexTar(async (at, length) => tar.subarray(at, at + length), tar.length, 'a.tar');
    expect([...index.values()].map((e) => [e.name, e.type, e.offset, e.size])).toEqual([
      ['l', 'symlink', 512, 0],
      ['fifo', 'other', 2048, 0],
      ['manifest.json', 'file', 2560, 2],
    ]);
  });

  it('follows symlinks and hard links inside the archive only', () => {
    expect(resolveArchiveFile(entries, 'id/layer.tar', 'a.tar')?.name).toBe('blobs/sha256/x');
    expect(resolveArchiveFile(entries, 'hard', 'a.tar')?.name).toBe('blobs/sha256/x');
    expect(resolveArchiveFile(entries, 'missing', 'a.tar')).toBeUndefined();
    expect(() => resolveArchiveFile(entries, 'up', 'a.tar')).toThrow(
      'a.tar: "up" links out of the archive ("../../etc/passwd")',
    );
    expect(() => resolveArchiveFile(entries, 'host', 'a.tar')).toThrow(
      'a.tar: "host" links to the host path "/etc/passwd"',
    );
    expect(() => resolveArchiveFile(entries, 'loop1', 'a.tar')).toThrow('a.tar: "loop1": more than 8 links');
    expect(() => resolveArchiveFile(entries, 'dev', 'a.tar')).toThrow('a.tar: "dev" is not a regular file');
  });
});

describe('the export tar writer', () => {
  it("writes a blob past 64 GiB and a sha512 blob's 141-byte name in PAX records, as Go's writer does, read back as docker load reads them", async () => {
    // The file, held as the small writes (headers, data that fits) at their positions; a blob's
    // big chunks are left out and read back as zeros (only headers are read).
    const written: Array<[number, Buffer]> = [];
    let end = 0;
    const out = {
      write: async (buf: Buffer, _off: number, length: number, position: number) => {
        if (length <= 4096) written.push([position, Buffer.from(buf.subarray(0, length))]);
        end = Math.max(end, position + length);
        return { bytesWritten: length, buffer: buf };
      },
    } as unknown as FileHandle;
    const readAt = async (at: number, length: number) => {
      const b = Buffer.alloc(Math.min(length, end - at));
      for (const [pos, w] of written)
        if (pos < at + b.length && pos + w.length > at)
          w.copy(b, Math.max(0, pos - at), Math.max(0, at - pos), Math.min(w.length, at + b.length - pos));
      return b;
    };
    const big = 64 * 2 ** 30 + 5;
    const chunk = Buffer.alloc(1 << 24);
    async function* zeros(size: number) {
      for (let left = size; left > 0; left -= chunk.length)
        yield chunk.subarray(0, Math.min(left, chunk.length));
    }
    const sha512Name = `blobs/sha512/${'ab'.repeat(64)}`;
    const tar = new TarWriter(out);
    await tar.addBytes('index.json', Buffer.from('{}'));
    await tar.addStream('blobs/sha256/big', big, zeros(big));
    await tar.addBytes(sha512Name, Buffer.from('abc'));
    await tar.end();
    const index = await indexTar(readAt, end, 'x.tar');
    expect([...index.values()].map((e) => [e.name, e.size])).toEqual([
      ['index.json', 2],
      ['blobs/sha256/big', big],
      [sha512Name, 3],
    ]);
    const abc = index.get(sha512Name) as TarIndexEntry;
    expect((await readAt(abc.offset, 3)).toString()).toBe('abc');
    // What fits a ustar header stays one header, as before.
    expect(written.filter(([pos]) => pos < 1024).map(([, b]) => b.length)).toEqual([512, 2, 510]);
  });
});

describe('archive metadata', () => {
  it('reads manifest.json entries, RepoTags null meaning no name', () => {
    const text = JSON.stringify([
      { Config: 'c.json', RepoTags: ['busybox:1'], Layers: ['l/layer.tar'] },
      { Config: 'd.json', RepoTags: null, Layers: [] },
      { Config: 'e.json', RepoTags: ['empty:1'], Layers: null }, // Go's nil list: no layers
    ]);
    expect(parseDockerManifest(Buffer.from(text), 'm')).toEqual([
      { config: 'c.json', tags: ['busybox:1'], layers: ['l/layer.tar'] },
      { config: 'd.json', tags: [], layers: [] },
      { config: 'e.json', tags: ['empty:1'], layers: [] },
    ]);
    expect(() => parseDockerManifest(Buffer.from('{}'), 'm')).toThrow('m: not a JSON array');
    expect(() => parseDockerManifest(Buffer.from('[{"Config":"c"}]'), 'm')).toThrow(
      'm: entry 0 has no Layers list',
    );
    expect(() => parseDockerManifest(Buffer.from('[{"Config":"c","Layers":[1]}]'), 'm')).toThrow(
      'm: entry 0 has no Layers list',
    );
  });

  it('reads (and hashes) a layer or config manifest.json names many times, by one name or several (links), once: images sharing a base, or a hostile list naming one big layer thousands of times', async () => {
    const raw = Buffer.alloc(2048, 1);
    const layer = gzipSync(raw);
    const refs = 500;
    const config = Buffer.from(
      JSON.stringify({
        os: 'linux',
        architecture: 'amd64',
        // Each a different digest: the reading never depends on what the config says of a layer.
        rootfs: {
          type: 'layers',
          diff_ids: Array.from({ length: refs }, (_, j) => sha256Of(Buffer.from(`${j}`))),
        },
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify(
        ['a:1', 'b:1', 'c:1'].map((tag, i) => ({
          Config: i === 0 ? 'c.json' : `link-${i}/c.json`,
          RepoTags: [tag],
          Layers: Array.from({ length: refs }, (_, j) => (j % 2 ? 'l.tar.gz' : `blobs/link-${j}/l.tar.gz`)),
        })),
      ),
    );
    const content: Record<string, Buffer> = {
      'manifest.json': manifest,
      'c.json': config,
      'l.tar.gz': layer,
    };
    // Every link-N/NAME is a link to NAME: one file of the archive under many names.
    const target = (path: string) => path.replace(/^(blobs\/)?link-\d+\//, '');
    const reads: Record<string, number> = {};
    const files: ArchiveFiles = {
      name: 'a.tar',
      async get(path) {
        const file = target(path);
        const bytes = content[file];
        if (!bytes) return undefined;
        const count = () => {
          reads[file] = (reads[file] ?? 0) + 1;
        };
        return {
          size: bytes.length,
          key: file,
          async *stream(start) {
            count();
            yield bytes.subarray(start);
          },
          async read() {
            count();
            return bytes;
          },
        };
      },
      async close() {},
    };
    const set = await readDockerArchive(files);
    expect(set.images.map((i) => i.name)).toEqual([
      'docker.io/library/a:1',
      'docker.io/library/b:1',
      'docker.io/library/c:1',
    ]);
    // Its first bytes (the media type) and its digest: two reads, not two per reference (3000).
    expect(reads).toEqual({ 'manifest.json': 1, 'c.json': 1, 'l.tar.gz': 2 });
  });

  it("holds at most 256 MiB of a docker archive's configs, distinct files together, in memory (ERR_ARCHIVE_ENTRY_TOO_LARGE)", async () => {
    // One 4 MiB buffer behind 70 files: 280 MiB of configs for the reader, 4 MiB for this test.
    const pad = 4 * 1024 * 1024 - 200;
    const config = Buffer.from(
      JSON.stringify({
        os: 'linux',
        architecture: 'amd64',
        config: { Labels: { pad: 'x'.repeat(pad) } },
        rootfs: { type: 'layers', diff_ids: [] },
      }),
    );
    const entries = Array.from({ length: 70 }, (_, i) => ({
      Config: `c${i}.json`,
      RepoTags: [`i${i}:1`],
      Layers: [],
    }));
    const manifest = Buffer.from(JSON.stringify(entries));
    const files: ArchiveFiles = {
      name: 'a.tar',
      async get(path) {
        const bytes = path === 'manifest.json' ? manifest : config;
        return {
          size: bytes.length,
          key: path,
          async *stream() {
            yield bytes;
          },
          read: async () => bytes,
        };
      },
      async close() {},
    };
    await expect(readDockerArchive(files)).rejects.toMatchObject({
      code: 'ERR_ARCHIVE_ENTRY_TOO_LARGE',
      message: `manifest.json of a.tar: its configs are past 268435456 bytes together (at "c64.json")`,
    });
  });

  it.each([
    [
      { 'io.containerd.image.name': 'docker.io/library/busybox:1', 'org.opencontainers.image.ref.name': '1' },
      'docker.io/library/busybox:1',
    ],
    [{ 'org.opencontainers.image.ref.name': 'example.com/app:2' }, 'example.com/app:2'],
    [{ 'org.opencontainers.image.ref.name': 'busybox:latest' }, 'docker.io/library/busybox:latest'],
    [{ 'org.opencontainers.image.ref.name': 'latest' }, undefined],
    [{ 'org.opencontainers.image.ref.name': 'Not A Ref:x' }, undefined],
    [undefined, undefined],
  ])('names an OCI index entry %j as %j', (annotations, name) => {
    expect(nameOfEntry(annotations)).toBe(name);
  });

  it("--name picks, of a layout's several images, the one whose ref.name is its tag (skopeo's oci:DIR:TAG), else refuses", () => {
    const image = (body: string, tag?: string) => ({
      mediaType: MediaType.ociManifest,
      digest: sha256Of(body),
      size: body.length,
      ...(tag ? { annotations: { 'org.opencontainers.image.ref.name': tag } } : {}),
    });
    const [v1, v2, named] = [image('1', 'v1'), image('2', 'v2'), image('3', 'example.com/app:3')];
    const set: ImageSet = {
      format: 'oci',
      files: { name: 'dir' } as ImageSet['files'],
      images: [{ name: 'example.com/app:3', descriptor: named }],
      unnamed: [v1, v2],
      blob: () => ({ bytes: Buffer.alloc(0) }),
    };
    const chosen = (ref: string) => namedAs(set, 'dir', ref).images;
    expect(chosen('x.lan/app:v2')).toEqual([{ name: 'x.lan/app:v2', descriptor: v2 }]);
    expect(chosen('x.lan/app:v1')).toEqual([{ name: 'x.lan/app:v1', descriptor: v1 }]);
    expect(() => chosen('x.lan/app:v3')).toThrow(
      'dir: --name x.lan/app:v3 names one image, and the archive holds 3 (ref.name "example.com/app:3", "v1", "v2")',
    );
    // Two images with the tag: which is not said.
    const twice = { ...set, unnamed: [v1, image('4', 'v1')] };
    expect(() => namedAs(twice, 'dir', 'x.lan/app:v1')).toThrow('names one image, and the archive holds 3');
    // The one image of an archive is named whatever its ref.name.
    expect(namedAs({ ...set, images: [], unnamed: [v1] }, 'dir', 'x.lan/app:7').images).toEqual([
      { name: 'x.lan/app:7', descriptor: v1 },
    ]);
    // One manifest under two ref.names (skopeo copies of one image as v1 and v1b): either tag finds it.
    const v1b = { ...v1, annotations: { 'org.opencontainers.image.ref.name': 'v1b' } };
    const sameTwice = { ...set, unnamed: [v1, v1b, v2] };
    expect(namedAs(sameTwice, 'dir', 'x.lan/app:v1').images).toEqual([
      { name: 'x.lan/app:v1', descriptor: v1 },
    ]);
    // REF@DIGEST names the manifest of that digest, never one without a ref.name.
    const bare = image('5');
    const withBare = { ...set, unnamed: [v1, bare] };
    const byDigest = namedAs(withBare, 'dir', `x.lan/app@${v1.digest}`).images;
    expect(byDigest.map((i) => i.descriptor.digest)).toEqual([v1.digest]);
    expect(() => namedAs(withBare, 'dir', `x.lan/app@${image('6').digest}`)).toThrow(
      expect.objectContaining({ code: 'ERR_IMAGE_NOT_IN_ARCHIVE' }),
    );
  });

  it.each([
    ['docker.io/library/busybox:1', 'busybox:1'],
    ['docker.io/team/app:1', 'team/app:1'],
    ['docker.io/library/a/b:1', 'library/a/b:1'],
    ['example.com/x:1', 'example.com/x:1'],
  ])('writes %j in a docker archive as %j', (name, familiar) => {
    expect(familiarName(name)).toBe(familiar);
  });
});

describe('a docker archive export', () => {
  it('writes RepoTags docker load takes: the tag of a name pinned by tag and digest (unless another image has that tag), none for a digest alone (it refused the whole archive: "invalid tag")', () => {
    const pin = `sha256:${'a'.repeat(64)}`;
    const image = (name: string, id: string) =>
      ({
        name,
        digest: sha256Of(id),
        manifest: { config: { digest: sha256Of(`config ${id}`) }, layers: [] },
      }) as unknown as ImageDetails;
    const [[file, bytes]] = archiveMetadata(
      [
        image('docker.io/library/busybox:1', 'one'),
        image(`docker.io/library/busybox@${pin}`, 'one'),
        image(`example.com/app:2@${pin}`, 'two'),
        image(`example.com/pinned@${pin}`, 'three'),
        // A rollback pin of the tag's former image: its tag stays the live image's (docker load
        // moves a tag to the later entry).
        image(`docker.io/library/busybox:1@${pin}`, 'old'),
      ],
      'docker',
      () => 0,
    ) as [[string, Buffer]];
    expect(file).toBe('manifest.json');
    expect((JSON.parse(bytes.toString()) as Array<{ RepoTags: string[] }>).map((e) => e.RepoTags)).toEqual([
      ['busybox:1'],
      ['example.com/app:2'],
      [],
      [],
    ]);
  });
});

describe("a docker save's layout or its manifest.json", () => {
  const facts = (named: number, unnamed: number, layers: Record<string, number> = {}): SetFacts => ({
    named,
    unnamed,
    layers: new Map(Object.entries(layers)),
  });
  it.each([
    ['a layout alone → layout', facts(0, 1), undefined, true],
    ['a tagged save of 25.0.1+ → layout', facts(1, 0, { c: 2 }), facts(1, 0, { c: 2 }), true],
    [
      'a save by ID of 25.0.3+ (one unnamed entry) → layout',
      facts(0, 1, { c: 2 }),
      facts(0, 1, { c: 2 }),
      true,
    ],
    [
      'a save by ID of 25.0.0-25.0.2 (manifests null) → manifest.json',
      facts(0, 0),
      facts(0, 1, { c: 2 }),
      false,
    ],
    [
      'a save of two IDs (the layout lists one: moby#51389) → manifest.json',
      facts(0, 1, { c: 2 }),
      facts(0, 2, { c: 2, d: 1 }),
      false,
    ],
    [
      'a layout naming none beside RepoTags → manifest.json',
      facts(0, 1, { c: 2 }),
      facts(1, 0, { c: 2 }),
      false,
    ],
    [
      'a tagged save of 25.0.0 (manifests of no layers) → manifest.json',
      facts(1, 0, { c: 0 }),
      facts(1, 0, { c: 2 }),
      false,
    ],
    [
      'a layout whose manifest configs manifest.json does not hold → layout',
      facts(1, 0, { c: 0 }),
      facts(1, 0, { d: 2 }),
      true,
    ],
  ] as Array<[string, SetFacts, SetFacts | undefined, boolean]>)('%s', (_, layout, docker, yes) => {
    expect(preferLayout(layout, docker)).toBe(yes);
  });
});

describe('the archive registry', () => {
  it("checks and names a manifest in its descriptor's algorithm (a layout's blobs/sha512/), as a pull does", async () => {
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest }));
    const digest = digestOf('sha512', manifest);
    const descriptor = { mediaType: MediaType.ociManifest, digest, size: manifest.length };
    const set = (bytes: Buffer): ImageSet => ({
      format: 'oci',
      files: { name: 'dir' } as ImageSet['files'],
      images: [{ name: 'example.com/app:1', descriptor }],
      unnamed: [],
      blob: () => ({ bytes }),
    });
    const repo = { registry: 'example.com', repository: 'app' };
    const fetched = await createArchiveRegistry(set(manifest)).getManifest(repo, '1');
    expect([fetched.digest, fetched.bytes.equals(manifest)]).toEqual([digest, true]);
    const flipped = Buffer.from(manifest);
    flipped.writeUInt8(flipped.readUInt8(2) ^ 1, 2);
    await expect(createArchiveRegistry(set(flipped)).getManifest(repo, '1')).rejects.toThrow(
      `dir: blob ${digest}: content has digest ${digestOf('sha512', flipped)}`,
    );
  });
});

describe('previous digests in index.json', () => {
  const d = (n: string) => `sha256:${n.repeat(64)}` as const;
  const rec = (name: string, digest: `sha256:${string}`) => ({
    name,
    target: { mediaType: MediaType.ociManifest, digest, size: 1 },
    repoDigest: digest,
    pulledAt: 't0',
  });
  it.each([
    ['r.lan:5000/app:1', 'r.lan:5000/app'],
    ['r.lan:5000/app@sha256:' + '1'.repeat(64), 'r.lan:5000/app'],
    ['r.lan/app', 'r.lan/app'],
  ])('keeps %j under %j@digest', (name, base) => {
    expect(previousName(name, d('f'))).toBe(`${base}@${d('f')}`);
  });

  it('keeps the digest a name moves away from under its digest name, once, other names untouched', () => {
    const start = [recordToEntry(rec('r/app:1', d('a'))), recordToEntry(rec('r/other:1', d('b')))];
    const once = entriesAfterPut(start, rec('r/app:1', d('c')), true, 't1');
    const view = (es: typeof start) =>
      es.map(entryToRecord).map((r) => [r?.name, r?.target.digest, r?.previousOf, r?.replacedAt]);
    expect(view(once)).toEqual([
      ['r/other:1', d('b'), undefined, undefined],
      [`r/app@${d('a')}`, d('a'), 'r/app:1', 't1'],
      ['r/app:1', d('c'), undefined, undefined],
    ]);
    // Back to a, then to c again: a's entry is renamed back and c is kept; nothing twice.
    const back = entriesAfterPut(
      entriesAfterPut(once, rec('r/app:1', d('a')), true, 't2'),
      rec('r/app:1', d('c')),
      true,
      't3',
    );
    expect(
      view(back)
        .map((r) => r[0])
        .sort(),
    ).toEqual(['r/app:1', `r/app@${d('a')}`, `r/app@${d('c')}`, 'r/other:1']);
    expect(view(entriesAfterPut(once, rec('r/app:1', d('e')), false, 't4')).map((r) => r[0])).toEqual([
      'r/other:1',
      `r/app@${d('a')}`,
      'r/app:1',
    ]);
  });
});

describe('the controller side', () => {
  it('collects the images manifests want (image volumes too) and each Image keep', () => {
    const docs = [
      {
        kind: 'Image',
        apiVersion: 'berth.dev/v1alpha1',
        metadata: { name: 'a' },
        spec: { ref: 'busybox', keep: 2 },
      },
      {
        kind: 'Pod',
        apiVersion: 'v1',
        metadata: { name: 'p' },
        spec: {
          initContainers: [{ name: 'i', image: 'r.lan/init:1' }],
          containers: [{ name: 'm', image: 'BAD REF' }],
          volumes: [
            { name: 'v', image: { reference: 'r.lan/data:2' } },
            { name: 'e', emptyDir: {} },
          ],
        },
      },
    ] as unknown as ManifestDoc[];
    const { wanted, keep } = imagesWanted(docs);
    expect([...wanted].sort()).toEqual(['docker.io/library/busybox:latest', 'r.lan/data:2', 'r.lan/init:1']);
    expect([...keep]).toEqual([['docker.io/library/busybox:latest', 2]]);
  });

  it.each([
    ['file:///srv/images/app.tar', '/srv/images/app.tar'],
    ['file://localhost/srv/a%20b.tar', '/srv/a b.tar'],
  ])('reads the source %j as %j', (url, path) => {
    expect(sourcePath(url)).toBe(path);
  });
  it.each(['http://x/a.tar', 'file://other-host/a.tar', 'not a url'])('refuses the source %j', (url) => {
    expect(() => sourcePath(url)).toThrow(`image source "${url}" is not a file:/// URL`);
  });

  it.each([
    ['app.tar', true],
    ['app.tar.gz', true],
    ['.app.tar', false],
    ['app.tar.part', false],
    ['app.tar~', false],
    ['app.tar.tmp', false],
  ])('treats %j in the import directory as an archive: %j', (name, yes) => {
    expect(isArchiveName(name)).toBe(yes);
  });

  it.each([
    ['library/busybox', [['^library/(.*)$', 'hub/$1']], 'hub/busybox'],
    ['team/app', [['^library/(.*)$', 'hub/$1']], 'team/app'],
    [
      'team/app',
      [
        ['^team/', 'a/'],
        ['^team/', 'b/'],
      ],
      'a/app',
    ],
  ] as Array<[string, Array<[string, string]>, string]>)('rewrites %j with %j to %j', (path, rules, out) => {
    expect(rewriteRepository(path, rules)).toBe(out);
  });
});
