// `berth image import|export` with archives made and read by skopeo (oci-archive:, docker-archive:,
// oci: layouts), and hostile archives written byte by byte: nothing of a refused archive may
// become visible in the store.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { watch } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Of } from '../../src/oci/digest.js';
import { runBerth } from '../helpers/cli.js';
import { buildImage, createLayout, type Layout, populateBusybox } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { buildTar } from '../helpers/tar-build.js';
import { buildRawImage, gzipLayer } from '../helpers/tar-bytes.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const run = promisify(execFile);
/** Waits for an observable condition, bounded. */
async function until(probe: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const skip = missingPrereqs(['skopeo', 'umoci']);

describe.skipIf(skip)('berth image import / export', () => {
  let layout: Layout;
  let work: string;
  const berth = (root: string, ...args: string[]) => runBerth(['--root', root, ...args]);
  let n = 0;
  const newRoot = () => join(work, `root-${n++}`);
  const oci = () => `oci:${join(layout.dir, 'oci')}`;
  /** Names in the store, and blobs whose bytes are not their digest (unverified content). */
  const storeState = async (root: string) => {
    const ls = await berth(root, 'image', 'ls', '--output', 'json');
    const names = (JSON.parse(ls.stdout) as Array<{ name: string }>).map((i) => i.name).sort();
    const dir = join(root, 'content/blobs/sha256');
    const unverified: string[] = [];
    for (const hex of await readdir(dir).catch(() => [])) {
      if (sha256Of(await readFile(join(dir, hex))) !== `sha256:${hex}`) unverified.push(hex);
    }
    return { names, unverified };
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-archive-'));
    layout = await createLayout();
    await buildImage(layout, 'app', [
      populateBusybox,
      async (rootfs) => writeFile(join(rootfs, 'hello'), 'from the archive\n'),
    ]);
    await buildImage(layout, 'other', [async (rootfs) => writeFile(join(rootfs, 'other'), 'x\n')]);
  }, 120_000);

  afterAll(async () => {
    await layout?.cleanup();
    if (work) await removeTempRoot(work);
  });

  it('imports a skopeo docker-archive, verified and unpacked; a second import stores nothing again', async () => {
    const file = join(work, 'docker.tar');
    await run('skopeo', ['copy', '-q', `${oci()}:app`, `docker-archive:${file}:example.com/team/app:1`]);
    const root = newRoot();
    const first = await berth(root, 'image', 'import', file);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /^imported example\.com\/team\/app:1 \(sha256:[a-f0-9]{64}\), [\d.]+ [kM]B, 2 layer\(s\) stored, 2 unpacked\n1 image\(s\) from .*docker\.tar in /,
    );
    const dest = join(work, 'unpacked-docker');
    expect((await berth(root, 'image', 'unpack', 'example.com/team/app:1', dest)).code).toBe(0);
    expect(await readFile(join(dest, 'hello'), 'utf8')).toBe('from the archive\n');
    const again = await berth(root, 'image', 'import', file);
    expect(again.stdout).toMatch(/, 0 layer\(s\) stored, 0 unpacked\n/);
  });

  it('import --no-unpack stores without unpacking, and --platform chooses (an archive without it is refused)', async () => {
    const file = join(work, 'docker-flags.tar');
    await run('skopeo', ['copy', '-q', `${oci()}:app`, `docker-archive:${file}:example.com/team/flags:1`]);
    const root = newRoot();
    const stored = await berth(root, 'image', 'import', '--no-unpack', file);
    expect([stored.code, stored.stderr]).toEqual([0, '']);
    expect(stored.stdout).toMatch(/, 2 layer\(s\) stored\n1 image\(s\) from /);
    // Without the flag, the same import only unpacks what is stored.
    expect((await berth(root, 'image', 'import', file)).stdout).toMatch(
      /, 0 layer\(s\) stored, 2 unpacked\n/,
    );
    const host = `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`;
    const chosen = await berth(newRoot(), 'image', 'import', '--platform', host, file);
    expect([chosen.code, chosen.stderr]).toEqual([0, '']);
    const otherRoot = newRoot();
    const other = await berth(otherRoot, 'image', 'import', '--platform', 'linux/s390x', file);
    expect([other.code, other.stdout, other.stderr]).toEqual([
      3,
      '',
      `berth: ERR_NO_MATCHING_PLATFORM: example.com/team/flags:1: image is for ${host}, not linux/s390x (choose one with --platform)\n`,
    ]);
    expect((await storeState(otherRoot)).names).toEqual([]);
  });

  it('imports an archive compressed whole with gzip or zstd, as `docker save | gzip` gives it', async () => {
    const file = join(work, 'whole.tar');
    await run('skopeo', ['copy', '-q', `${oci()}:other`, `docker-archive:${file}:example.com/team/other:1`]);
    await writeFile(`${file}.gz`, gzipSync(await readFile(file)));
    await writeFile(`${file}.zst`, zstdCompressSync(await readFile(file)));
    // A long window, as `zstd --long=28` makes one (256 MiB): past libzstd's default 128 MiB bound,
    // it was "cannot decompress" where a layer of the same takes it.
    // (From a pipe: with the size known, zstd shrinks the window to it.)
    await run('sh', ['-c', 'zstd -q -c --long=28 < "$0" > "$0.long.zst"', file]);
    for (const packed of [`${file}.gz`, `${file}.zst`, `${file}.long.zst`]) {
      const root = newRoot();
      const r = await berth(root, 'image', 'import', packed);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toMatch(
        /^imported example\.com\/team\/other:1 \(sha256:[a-f0-9]{64}\), [\d.]+ [kM]?B, 1 layer\(s\) stored, 1 unpacked\n/,
      );
      expect(await storeState(root)).toEqual({ names: ['example.com/team/other:1'], unverified: [] });
    }
  });

  it('refuses an archive compressed with a window past 512 MiB, naming it, and stores nothing', async () => {
    const file = join(work, 'wide.tar');
    await run('skopeo', ['copy', '-q', `${oci()}:other`, `docker-archive:${file}:example.com/team/other:1`]);
    await run('sh', ['-c', 'zstd -q -c --long=30 < "$0" > "$0.zst"', file]);
    const root = newRoot();
    const r = await berth(root, 'image', 'import', `${file}.zst`);
    expect([r.code, r.stdout]).toEqual([7, '']);
    expect(r.stderr).toMatch(
      new RegExp(
        `^berth: ERR_ZSTD_WINDOW_TOO_LARGE: ${file}\\.zst: a zstd frame with a window of 1024 MiB .*zstd --long=29 or less\\)\\n$`,
      ),
    );
    expect((await storeState(root)).names).toEqual([]);
  });

  it('imports a skopeo oci-archive and an OCI layout directory, names from their annotations', async () => {
    const file = join(work, 'oci.tar');
    await run('skopeo', ['copy', '-q', `${oci()}:app`, `oci-archive:${file}:example.com/team/app:2`]);
    const dir = join(work, 'layout-dir');
    await run('skopeo', ['copy', '-q', `${oci()}:other`, `oci:${dir}:registry.lan/other:3`]);
    const root = newRoot();
    expect((await berth(root, 'image', 'import', file)).code).toBe(0);
    expect((await berth(root, 'image', 'import', dir)).code).toBe(0);
    expect((await storeState(root)).names).toEqual(['example.com/team/app:2', 'registry.lan/other:3']);
  });

  it('imports a docker save of an image of no layers, whose config has no diff_ids (Docker omits an empty list)', async () => {
    // docker build of FROM scratch with only LABEL/CMD: RootFS.DiffIDs is omitempty in moby.
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/app'] },
      rootfs: { type: 'layers' },
    });
    const file = join(work, 'no-layers.tar');
    await writeFile(
      file,
      buildTar([
        { name: 'cfg.json', data: config },
        {
          name: 'manifest.json',
          data: JSON.stringify([{ Config: 'cfg.json', RepoTags: ['example.com/empty:1'], Layers: [] }]),
        },
      ]),
    );
    const root = newRoot();
    const r = await berth(root, 'image', 'import', file);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(await storeState(root)).toEqual({ names: ['example.com/empty:1'], unverified: [] });
    const ls = JSON.parse((await berth(root, 'image', 'ls', '--output', 'json')).stdout) as Array<{
      layers: number;
    }>;
    expect(ls.map((i) => i.layers)).toEqual([0]);
  });

  it('imports a layout whose blobs are sha512 (blobs/sha512/: index entry, manifest, config, layer), stored under those digests', async () => {
    const sha = (alg: string, b: Buffer) => `${alg}:${createHash(alg).update(b).digest('hex')}`;
    const tar = buildTar([{ name: 'hello', data: 'sha512 layout\n' }]);
    const layer = gzipSync(tar);
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/hello'] },
        // diffIDs stay sha256: containerd and Docker hash an unpacked layer in sha256 only.
        rootfs: { type: 'layers', diff_ids: [sha256Of(tar)] },
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: sha('sha512', config),
          size: config.length,
        },
        layers: [
          {
            mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
            digest: sha('sha512', layer),
            size: layer.length,
          },
        ],
      }),
    );
    const dir = join(work, 'sha512-layout');
    await mkdir(join(dir, 'blobs', 'sha512'), { recursive: true });
    for (const b of [config, layer, manifest]) {
      await writeFile(join(dir, 'blobs', 'sha512', sha('sha512', b).slice(7)), b);
    }
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const entry = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha('sha512', manifest),
      size: manifest.length,
      annotations: { 'org.opencontainers.image.ref.name': 'example.com/s512:1' },
    };
    await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
    const root = newRoot();
    const r = await berth(root, 'image', 'import', dir);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const ls = JSON.parse((await berth(root, 'image', 'ls', '--output', 'json')).stdout) as Array<{
      name: string;
      digest: string;
    }>;
    expect(ls.map((i) => [i.name, i.digest])).toEqual([['example.com/s512:1', entry.digest]]);
    const stored = (await readdir(join(root, 'content/blobs/sha512'))).sort();
    expect(stored).toEqual([config, layer, manifest].map((b) => sha('sha512', b).slice(7)).sort());
    const out = join(work, 'sha512-unpacked');
    const unpacked = await berth(root, 'image', 'unpack', 'example.com/s512:1', out);
    expect([unpacked.code, unpacked.stderr]).toEqual([0, '']);
    expect(await readFile(join(out, 'hello'), 'utf8')).toBe('sha512 layout\n');
    // Found by its ID as image ls shows it (the hex digits of its sha512 config digest), and whole.
    const id = sha('sha512', config);
    for (const q of [id.slice(7, 19), id]) {
      const inspect = await berth(root, 'image', 'inspect', q);
      expect([inspect.code, inspect.stderr], q).toEqual([0, '']);
      expect(JSON.parse(inspect.stdout)).toMatchObject({ id, name: 'example.com/s512:1' });
    }
  });

  it('a docker save of Docker 25+ (an OCI layout and manifest.json) is read as its layout, as containerd reads it: the image keeps its manifest digest', async () => {
    const dir = join(work, 'docker25');
    await run('skopeo', ['copy', '-q', `${oci()}:app`, `oci:${dir}:app`]);
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
    };
    const entry = index.manifests[0] as {
      digest: string;
      size: number;
      annotations?: Record<string, string>;
    };
    const blob = (digest: string) => `blobs/sha256/${digest.slice(7)}`;
    const manifest = JSON.parse(await readFile(join(dir, blob(entry.digest)), 'utf8')) as {
      config: { digest: string };
      layers: Array<{ digest: string }>;
      annotations?: Record<string, string>;
    };
    // A manifest as a registry served it (annotated), which no manifest made up from
    // manifest.json is byte for byte.
    manifest.annotations = { 'org.opencontainers.image.created': '2026-12-05T00:00:00Z' };
    const bytes = Buffer.from(JSON.stringify(manifest));
    await writeFile(join(dir, blob(sha256Of(bytes))), bytes);
    // Docker's annotations: the full name for containerd, the bare tag as ref.name.
    Object.assign(entry, {
      digest: sha256Of(bytes),
      size: bytes.length,
      annotations: {
        'io.containerd.image.name': 'example.com/team/d25:1',
        'org.opencontainers.image.ref.name': '1',
      },
    });
    await writeFile(join(dir, 'index.json'), JSON.stringify(index));
    await writeFile(
      join(dir, 'manifest.json'),
      JSON.stringify([
        {
          Config: blob(manifest.config.digest),
          RepoTags: ['example.com/team/d25:1'],
          Layers: manifest.layers.map((l) => blob(l.digest)),
        },
      ]),
    );
    await writeFile(join(dir, 'repositories'), JSON.stringify({ 'example.com/team/d25': { '1': 'x' } }));
    const file = join(work, 'docker25.tar');
    await run('tar', ['-C', dir, '-cf', file, '.']);
    const root = newRoot();
    const r = await berth(root, 'image', 'import', file);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const ls = JSON.parse((await berth(root, 'image', 'ls', '--output', 'json')).stdout) as Array<{
      name: string;
      digest: string;
    }>;
    // From manifest.json it was a manifest made up here, of another digest.
    expect(ls.map((i) => [i.name, i.digest])).toEqual([['example.com/team/d25:1', entry.digest]]);
  });

  it("a docker save of Docker 25 by ID imports with --name, keeping the layout's manifest where it holds the image; a layout Docker wrote short of manifest.json (25.0.0: manifests null, manifests of no layers) gives way to manifest.json", async () => {
    const dir = join(work, 'docker25-id');
    await run('skopeo', ['copy', '-q', `${oci()}:app`, `oci:${dir}:app`]);
    const blob = (digest: string) => `blobs/sha256/${digest.slice(7)}`;
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; mediaType: string }>;
    };
    const original = index.manifests[0] as { digest: string; mediaType: string };
    const manifest = JSON.parse(await readFile(join(dir, blob(original.digest)), 'utf8')) as {
      config: { digest: string };
      layers: Array<{ digest: string }>;
      annotations?: Record<string, string>;
    };
    // The manifest a containerd-store Docker keeps (annotated), which none made up from
    // manifest.json is byte for byte; and 25.0.0's, with no layers (moby#47065).
    manifest.annotations = { 'org.opencontainers.image.created': '2026-12-05T00:00:00Z' };
    const own = Buffer.from(JSON.stringify(manifest));
    const layerless = Buffer.from(JSON.stringify({ ...manifest, layers: [] }));
    for (const b of [own, layerless]) await writeFile(join(dir, blob(sha256Of(b))), b);
    const entry = (bytes: Buffer, annotations?: Record<string, string>) => ({
      mediaType: original.mediaType,
      digest: sha256Of(bytes),
      size: bytes.length,
      ...(annotations ? { annotations } : {}),
    });
    const save = async (name: string, manifests: unknown, repoTags: string[] | null) => {
      await writeFile(
        join(dir, 'index.json'),
        JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }),
      );
      const Layers = manifest.layers.map((l) => blob(l.digest));
      const docker = [{ Config: blob(manifest.config.digest), RepoTags: repoTags, Layers }];
      await writeFile(join(dir, 'manifest.json'), JSON.stringify(docker));
      const file = join(work, name);
      await run('tar', ['-C', dir, '-cf', file, '.']);
      return file;
    };
    // 25.0.3 and later: one unnamed entry (moby#47232); 25.0.0-25.0.2: null (moby#47210).
    const byId = await save('docker25-id.tar', [entry(own)], null);
    const byIdNull = await save('docker25-id-null.tar', null, null);
    const tagged = 'example.com/team/d250:1';
    const annotations = { 'io.containerd.image.name': tagged, 'org.opencontainers.image.ref.name': '1' };
    const noLayers = await save('docker250.tar', [entry(layerless, annotations)], [tagged]);
    const root = newRoot();
    const imports = [
      await berth(root, 'image', 'import', byId, '--name', 'example.com/team/byid:1'),
      await berth(root, 'image', 'import', byIdNull, '--name', 'example.com/team/byid:2'),
      await berth(root, 'image', 'import', noLayers),
    ];
    // Before: the first was a manifest made up from manifest.json, the second ERR_ARCHIVE_FORMAT
    // (no "manifests" array), the third ERR_MANIFEST_INVALID (more diff_ids than layers).
    expect(imports.map((r) => [r.code, r.stderr])).toEqual([
      [0, ''],
      [0, ''],
      [0, ''],
    ]);
    const ls = JSON.parse((await berth(root, 'image', 'ls', '--output', 'json')).stdout) as Array<{
      name: string;
      digest: string;
      id: string;
    }>;
    expect(ls.find((i) => i.name === 'example.com/team/byid:1')?.digest).toBe(sha256Of(own));
    expect(new Set(ls.map((i) => i.id))).toEqual(new Set([manifest.config.digest]));
    expect(ls.map((i) => i.name).sort()).toEqual([
      'example.com/team/byid:1',
      'example.com/team/byid:2',
      tagged,
    ]);
    const dest = join(work, 'unpacked-d250');
    expect((await berth(root, 'image', 'unpack', tagged, dest)).code).toBe(0);
    expect(await readFile(join(dest, 'hello'), 'utf8')).toBe('from the archive\n');
  });

  it('a layout listing one name for several platforms (an entry each) imports the platform asked for, as a pull chooses in an index; a bare ref.name with --name too', async () => {
    const dir = join(work, 'one-name-platforms');
    await mkdir(join(dir, 'blobs/sha256'), { recursive: true });
    const image = (arch: string, variant?: string) =>
      buildRawImage([gzipLayer([{ name: 'arch', body: `${arch}\n` }])], {
        config: { architecture: arch, ...(variant ? { variant } : {}) },
      });
    const images = [image('amd64'), image('arm64', 'v8')];
    for (const i of images)
      for (const b of [i.manifest, i.config, ...i.layers.map((l) => l.blob)])
        await writeFile(join(dir, `blobs/sha256/${sha256Of(b).slice(7)}`), b);
    const platforms = [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ];
    const entries = (annotations: Record<string, string>) =>
      images.map((i, n) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: sha256Of(i.manifest),
        size: i.manifest.length,
        platform: platforms[n],
        annotations,
      }));
    const named = 'example.com/team/multi:1';
    const index = {
      schemaVersion: 2,
      manifests: [
        ...entries({ 'io.containerd.image.name': named, 'org.opencontainers.image.ref.name': '1' }),
        ...entries({ 'org.opencontainers.image.ref.name': 'bare' }),
      ],
    };
    await writeFile(join(dir, 'index.json'), JSON.stringify(index));
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const arch = async (root: string, ref: string) => {
      const dest = join(work, `unpacked-${n++}`);
      const r = await berth(root, 'image', 'unpack', ref, dest);
      return r.code === 0 ? readFile(join(dest, 'arch'), 'utf8') : r.stderr;
    };
    const arm = newRoot();
    const r = await berth(arm, 'image', 'import', '--platform', 'linux/arm64', dir);
    // The bare ref.name's two entries are one image too (named with --name below).
    expect([r.code, r.stderr]).toEqual([
      0,
      expect.stringMatching(/^skipped an image without a name \(sha256:[a-f0-9]{64}\)\n$/),
    ]);
    // Before: the first entry of the name (amd64), whatever --platform said.
    expect(await arch(arm, named)).toBe('arm64\n');
    const bare = await berth(
      arm,
      'image',
      'import',
      '--platform',
      'linux/arm64',
      dir,
      '--name',
      'x.lan/bare:1',
    );
    // Before: ERR_IMPORT_NAME_AMBIGUOUS (two entries of ref.name "bare").
    expect([bare.code, bare.stderr]).toEqual([0, '']);
    expect(await arch(arm, 'x.lan/bare:1')).toBe('arm64\n');
    // One of those entries by its digest (a manifest of its own, as before).
    const pin = `x.lan/pinned@${sha256Of((images[1] as { manifest: Buffer }).manifest)}`;
    const pinned = await berth(arm, 'image', 'import', '--platform', 'linux/arm64', dir, '--name', pin);
    expect([pinned.code, pinned.stderr]).toEqual([0, '']);
    expect(await arch(arm, pin)).toBe('arm64\n');
    const amd = newRoot();
    expect((await berth(amd, 'image', 'import', '--platform', 'linux/amd64', dir)).code).toBe(0);
    expect(await arch(amd, named)).toBe('amd64\n');
    const none = await berth(newRoot(), 'image', 'import', '--platform', 'linux/s390x', dir);
    expect([none.code, none.stderr]).toEqual([
      3,
      `berth: ERR_NO_MATCHING_PLATFORM: ${named}: no image for platform linux/s390x (index offers: linux/amd64, linux/arm64/v8) (choose one with --platform)\n`,
    ]);
  });

  it('refuses a layout whose only names are bare tags, naming the problem', async () => {
    const root = newRoot();
    const r = await berth(root, 'image', 'import', join(layout.dir, 'oci'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^berth: ERR_IMPORT_UNNAMED: .*: its 2 image\(s\) carry no reference/);
  });

  it('--name names the one image of a layout with a bare tag, or of an untagged docker archive; with two images it is refused', async () => {
    // What `skopeo copy docker://… oci:DIR:TAG` writes: ref.name "app", no registry or repository.
    const dir = join(work, 'bare-tag');
    await run('skopeo', ['copy', '-q', `${oci()}:app`, `oci:${dir}:app`]);
    const untagged = join(work, 'untagged.tar');
    await run('skopeo', ['copy', '-q', `${oci()}:other`, `docker-archive:${untagged}`]);
    const root = newRoot();
    const refused = await berth(root, 'image', 'import', dir);
    expect([refused.code, refused.stderr]).toEqual([
      2,
      `berth: ERR_IMPORT_UNNAMED: ${dir}: its 1 image(s) carry no reference to name them by (give it one with --name REF, or save or copy the image with a name (docker save NAME:TAG, skopeo copy … oci-archive:FILE:NAME:TAG))\n`,
    ]);
    expect((await storeState(root)).names).toEqual([]);
    const named = await berth(root, 'image', 'import', dir, '--name', 'registry.lan/team/app:7');
    expect([named.code, named.stderr]).toEqual([0, '']);
    expect((await berth(root, 'image', 'import', untagged, '--name', 'other')).code).toBe(0);
    expect(await storeState(root)).toEqual({
      names: ['docker.io/library/other:latest', 'registry.lan/team/app:7'],
      unverified: [],
    });
    const two = await berth(root, 'image', 'import', join(layout.dir, 'oci'), '--name', 'x.lan/y:1');
    expect([two.code, two.stderr]).toEqual([
      2,
      `berth: ERR_IMPORT_NAME_AMBIGUOUS: ${join(layout.dir, 'oci')}: --name x.lan/y:1 names one image, and the archive holds 2 (ref.name "app", "other") (import it without --name (each image by its own name), give --name the tag of the one you want as its ref.name says it, or export one image per archive)\n`,
    ]);
    expect((await storeState(root)).names).toEqual([
      'docker.io/library/other:latest',
      'registry.lan/team/app:7',
    ]);
    // Two skopeo copies into one layout (oci:DIR:app, oci:DIR:other): the tag says which, as
    // skopeo's oci:DIR:other chooses it.
    const picked = await berth(root, 'image', 'import', join(layout.dir, 'oci'), '--name', 'x.lan/y:other');
    expect([picked.code, picked.stderr]).toEqual([0, '']);
    const ls = await berth(root, 'image', 'ls', '--output', 'json');
    // The same config as the docker archive's copy of other (its manifest is made up there).
    const ids = new Map(
      (JSON.parse(ls.stdout) as Array<{ name: string; id: string }>).map((i) => [i.name, i.id]),
    );
    expect(ids.get('x.lan/y:other')).toBe(ids.get('docker.io/library/other:latest'));
    expect(ids.get('x.lan/y:other')).not.toBe(ids.get('registry.lan/team/app:7'));
  });

  it('export writes the tar under a temporary name and renames it; a failed export leaves neither name', async () => {
    const src = join(work, 'tmpname-src.tar');
    await run('skopeo', ['copy', '-q', `${oci()}:app`, `docker-archive:${src}:example.com/team/app:1`]);
    const root = newRoot();
    expect((await berth(root, 'image', 'import', src)).code).toBe(0);
    const outDir = await mkdtemp(join(work, 'export-'));
    // inotify sees every name the export creates in the directory, however short-lived.
    const seen: string[] = [];
    const watcher = watch(outDir, (_event, name) => {
      if (name && !seen.includes(name)) seen.push(name);
    });
    const exp = await berth(root, 'image', 'export', 'example.com/team/app:1', '-o', join(outDir, 'out.tar'));
    expect(exp.code).toBe(0);
    // `-o json` (the output format, meant) never becomes an archive named json.
    const meant = await berth(root, 'image', 'export', 'example.com/team/app:1', '-o', 'json');
    expect([meant.code, meant.stderr]).toEqual([
      2,
      'berth: ERR_USAGE: -o json would name the archive file "json" (image export\'s -o is the archive (as docker save\'s); write --output json for the output format)\n',
    ]);
    await until(() => seen.includes('out.tar'), 5_000);
    watcher.close();
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatch(/^\.out\.tar\.\d+\.[0-9a-f]{8}\.tmp$/);
    expect(seen[1]).toBe('out.tar');
    expect(await readdir(outDir)).toEqual(['out.tar']);
    // A blob gone from the store fails the export half way: no FILE, no temporary left behind.
    const layer = (
      JSON.parse(
        (await berth(root, 'image', 'inspect', 'example.com/team/app:1', '--output', 'json')).stdout,
      ) as { manifest: { layers: Array<{ digest: string }> } }
    ).manifest.layers[0]?.digest as string;
    await rm(join(root, 'content/blobs/sha256', layer.slice('sha256:'.length)));
    const failed = await berth(
      root,
      'image',
      'export',
      'example.com/team/app:1',
      '-o',
      join(outDir, 'bad.tar'),
    );
    expect([failed.code, failed.stderr]).toEqual([
      3,
      `berth: ERR_BLOB_NOT_FOUND: blob ${layer} is missing from the store (pull or import the image again)\n`,
    ]);
    expect(await readdir(outDir)).toEqual(['out.tar']);
  });

  it('exports oci and docker archives that skopeo reads back to the same image, and that import again', async () => {
    const src = join(work, 'src.tar');
    await run('skopeo', ['copy', '-q', `${oci()}:app`, `docker-archive:${src}:example.com/team/app:1`]);
    await run('skopeo', [
      'copy',
      '-q',
      `${oci()}:other`,
      `oci-archive:${join(work, 'o2.tar')}:example.com/team/other:1`,
    ]);
    const root = newRoot();
    expect((await berth(root, 'image', 'import', src)).code).toBe(0);
    expect((await berth(root, 'image', 'import', join(work, 'o2.tar'))).code).toBe(0);
    const inspect = JSON.parse(
      (await berth(root, 'image', 'inspect', 'example.com/team/app:1', '--output', 'json')).stdout,
    );
    const ociOut = join(work, 'out-oci.tar');
    const exp = await berth(
      root,
      'image',
      'export',
      'example.com/team/app:1',
      'example.com/team/other:1',
      '-o',
      ociOut,
    );
    expect(exp.code).toBe(0);
    expect(exp.stdout).toMatch(
      new RegExp(
        `^exported example.com/team/app:1, example.com/team/other:1 to ${ociOut} \\(oci, 7 blobs, [\\d.]+ MB\\)\n$`,
      ),
    );
    const { stdout: fromSkopeo } = await run('skopeo', [
      'inspect',
      '--raw',
      `oci-archive:${ociOut}:example.com/team/app:1`,
    ]);
    expect(sha256Of(fromSkopeo)).toBe(inspect[0]?.digest ?? inspect.digest);
    const dockerOut = join(work, 'out-docker.tar');
    expect(
      (
        await berth(
          root,
          'image',
          'export',
          'example.com/team/app:1',
          'example.com/team/other:1',
          '--format',
          'docker',
          '-o',
          dockerOut,
        )
      ).code,
    ).toBe(0);
    const back = join(work, 'skopeo-back');
    await run('skopeo', [
      'copy',
      '-q',
      `docker-archive:${dockerOut}:example.com/team/other:1`,
      `oci:${back}:x`,
    ]);
    const { stdout: cfg } = await run('skopeo', ['inspect', '--config', `oci:${back}:x`]);
    expect(JSON.parse(cfg).rootfs.diff_ids).toHaveLength(1);
    for (const f of [ociOut, dockerOut]) {
      const fresh = newRoot();
      expect((await berth(fresh, 'image', 'import', f)).code).toBe(0);
      expect((await storeState(fresh)).names).toEqual(['example.com/team/app:1', 'example.com/team/other:1']);
    }
    expect((await readdir(work)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  describe('hostile archives: a clear error, nothing visible', () => {
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
    );
    const layer = buildTar([{ name: 'evil', data: 'x' }]);
    const withLayer = (diffId: string) =>
      Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          rootfs: { type: 'layers', diff_ids: [diffId] },
        }),
      );
    const manifest = (layers: string[], tag = 'example.com/evil:1') =>
      JSON.stringify([{ Config: 'config.json', RepoTags: [tag], Layers: layers }]);
    const cases: Array<[string, () => Buffer, RegExp]> = [
      [
        'a name climbing out with ..',
        () =>
          buildTar([
            { name: '../escape', data: 'x' },
            { name: 'manifest.json', data: manifest([]) },
          ]),
        /^berth: ERR_ARCHIVE_UNSAFE: .*name "\.\.\/escape" climbs out with \.\.\n$/,
      ],
      [
        'manifest.json naming a host path',
        () =>
          buildTar([
            { name: 'config.json', data: withLayer(sha256Of(layer)) },
            { name: 'manifest.json', data: manifest(['/etc/passwd']) },
          ]),
        /^berth: ERR_ARCHIVE_UNSAFE: .*absolute name "\/etc\/passwd"\n$/,
      ],
      [
        'a layer that is a symlink to the host',
        () =>
          buildTar([
            { name: 'config.json', data: withLayer(sha256Of(layer)) },
            { name: 'l/layer.tar', type: '2', linkname: '/etc/passwd' },
            { name: 'manifest.json', data: manifest(['l/layer.tar']) },
          ]),
        /^berth: ERR_ARCHIVE_UNSAFE: .*"l\/layer\.tar" links to the host path "\/etc\/passwd"\n$/,
      ],
      [
        'a layer symlink climbing out of the archive',
        () =>
          buildTar([
            { name: 'config.json', data: withLayer(sha256Of(layer)) },
            { name: 'l/layer.tar', type: '2', linkname: '../../etc/passwd' },
            { name: 'manifest.json', data: manifest(['l/layer.tar']) },
          ]),
        /^berth: ERR_ARCHIVE_UNSAFE: .*links out of the archive/,
      ],
      [
        'a layer whose bytes are not its diffID',
        () =>
          buildTar([
            { name: 'config.json', data: withLayer(`sha256:${'1'.repeat(64)}`) },
            { name: 'layer.tar', data: layer },
            { name: 'manifest.json', data: manifest(['layer.tar']) },
          ]),
        /^berth: ERR_DIGEST_MISMATCH: /,
      ],
      [
        'an entry declaring more bytes than the file has (a huge entry)',
        () =>
          buildTar([
            { name: 'config.json', data: config },
            { name: 'manifest.json', data: manifest([]) },
            { name: 'big', data: 'x', declaredSize: 2 ** 32 },
          ]),
        /^berth: ERR_ARCHIVE_TRUNCATED: .*declares 4294967296 bytes, past the end of the file\n$/,
      ],
      [
        'a manifest.json larger than 4 MiB',
        () => buildTar([{ name: 'manifest.json', data: Buffer.alloc(5 * 2 ** 20, 0x20) }]),
        /^berth: ERR_ARCHIVE_ENTRY_TOO_LARGE: .*"manifest\.json" is 5242880 bytes \(limit 4194304\)\n$/,
      ],
      [
        'the same file twice',
        () =>
          buildTar([
            { name: 'manifest.json', data: manifest([]) },
            { name: './manifest.json', data: '[]' },
          ]),
        /^berth: ERR_ARCHIVE_UNSAFE: .*"manifest\.json" appears twice\n$/,
      ],
      [
        'a tar that is neither layout',
        () => buildTar([{ name: 'README', data: 'hi' }]),
        /^berth: ERR_ARCHIVE_FORMAT: .* is neither an OCI image layout \(index\.json\) nor a docker archive \(manifest\.json\)\n$/,
      ],
    ];
    for (const [what, make, error] of cases) {
      it(what, async () => {
        const file = join(work, `hostile-${n}.tar`);
        await writeFile(file, make());
        const root = newRoot();
        const r = await berth(root, 'image', 'import', file);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(error);
        expect(await storeState(root)).toEqual({ names: [], unverified: [] });
      });
    }

    it('a gzip bomb stops at the image size limit and leaves no expanded copy', async () => {
      const file = join(work, 'bomb.tar.gz');
      await writeFile(file, gzipSync(Buffer.alloc(64 * 2 ** 20)));
      const root = newRoot();
      const cfg = join(work, 'small.yaml');
      await writeFile(cfg, 'unpack:\n  maxImageBytes: 1048576\n');
      const r = await runBerth(['--root', root, '--config', cfg, 'image', 'import', file]);
      expect(r.stderr).toMatch(
        /^berth: ERR_ARCHIVE_ENTRY_TOO_LARGE: .*bomb\.tar\.gz: expands past 1048576 bytes\n$/,
      );
      expect(await readdir(join(root, 'ingest'))).toEqual([]);
    });

    it('a FIFO, given or inside a layout directory, is refused without waiting for a writer', async () => {
      const fifo = join(work, 'archive.fifo');
      await run('mkfifo', [fifo]);
      const root = newRoot();
      const given = await berth(root, 'image', 'import', fifo);
      expect(given.stderr).toMatch(
        /^berth: ERR_ARCHIVE_FORMAT: .*archive\.fifo is neither a file nor a directory\n$/,
      );
      const dir = join(work, 'fifo-layout');
      await mkdir(dir);
      await run('mkfifo', [join(dir, 'index.json')]);
      const inside = await berth(root, 'image', 'import', dir);
      expect(inside.stderr).toMatch(/^berth: ERR_ARCHIVE_UNSAFE: .*"index\.json" is not a regular file\n$/);
    });

    it('an OCI layout directory whose blobs directory is a symlink out of it', async () => {
      const dir = join(work, 'evil-layout');
      const outside = join(work, 'outside');
      await run('skopeo', ['copy', '-q', `${oci()}:other`, `oci:${outside}:registry.lan/other:3`]);
      await mkdir(dir);
      await writeFile(join(dir, 'index.json'), await readFile(join(outside, 'index.json')));
      await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
      await symlink(join(outside, 'blobs'), join(dir, 'blobs'));
      const root = newRoot();
      const r = await berth(root, 'image', 'import', dir);
      expect(r.stderr).toMatch(
        /^berth: ERR_ARCHIVE_UNSAFE: .*"blobs\/sha256\/[a-f0-9]{64}" goes through a symlink or non-directory\n$/,
      );
      expect(await storeState(root)).toEqual({ names: [], unverified: [] });
    });
  });
});
