// Images whose index points at indexes (OCI allows it; containerd and skopeo follow them), pulled
// from a real docker-registry: index → index → manifest pulls, is stored whole (every index on the
// way, kept by prune), inspects and unpacks; a chain is followed to 8 indexes and refused past them;
// a wide index, a descriptor that lies about media type or size at any level, an index that names
// its sibling, and no match deep inside each end as they should, each in one coded line. An OCI
// layout holding such an image imports the same way (a node that never reaches a registry), and an
// export names what was pulled (the top index, with the chain under it): skopeo reads one level of
// it, umoci a chain of one image, and an import gives the same repo digest again.
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  type BuiltImage,
  buildRawImage,
  gzipLayer,
  pushRawImage,
  putManifest,
  sha256,
} from '../helpers/tar-bytes.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['docker-registry', 'skopeo', 'umoci'], { root: true });
const run = promisify(execFile);

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

interface Entry {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Record<string, string>;
  annotations?: Record<string, string>;
}

const indexBytes = (manifests: Entry[]) =>
  Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));

let registry: TestRegistry;
let work: string;
let n = 0;
const repo = 'nested/app';
/** The amd64 image (its one file says so), an arm64 one, and an attestation-like one. */
let amd: BuiltImage;
let arm: BuiltImage;
let att: BuiltImage;
const imageEntry = (image: BuiltImage, extra: Partial<Entry> = {}): Entry => ({
  mediaType: OCI_MANIFEST,
  digest: sha256(image.manifest),
  size: image.manifest.length,
  ...extra,
});

/** PUT an index of `manifests` under a fresh tag; its entry (for a parent index) and reference. */
async function putIndex(manifests: Entry[], extra: Partial<Entry> = {}) {
  const body = indexBytes(manifests);
  const tag = `i${++n}`;
  const digest = await putManifest(registry.url, repo, tag, body);
  return {
    entry: { mediaType: OCI_INDEX, digest, size: body.length, ...extra },
    ref: `${registry.host}/${repo}:${tag}`,
  };
}

/** A chain of `depth` indexes, top first; each names only the next (alternately with a platform). */
async function chain(depth: number) {
  let child: Entry = imageEntry(amd);
  const digests: string[] = [];
  let ref = '';
  for (let i = 0; i < depth; i++) {
    const put = await putIndex([child], {});
    digests.unshift(put.entry.digest);
    ref = put.ref;
    child = { ...put.entry, ...(i % 2 === 0 ? { platform: AMD64 } : {}) };
  }
  return { ref, digests };
}

const newRoot = () => join(work, `root-${++n}`);
const pull = (root: string, ref: string, platform = 'linux/amd64') =>
  runBerth(['--root', root, 'image', 'pull', '--platform', platform, ref]);

beforeAll(async () => {
  if (skip) return;
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'berth-nested-'));
  amd = buildRawImage([gzipLayer([{ name: 'which', body: 'amd64\n' }])]);
  arm = buildRawImage([gzipLayer([{ name: 'which', body: 'arm64\n' }])], {
    config: { architecture: 'arm64' },
  });
  att = buildRawImage([gzipLayer([{ name: 'which', body: 'attestation\n' }])]);
  await pushRawImage(registry.url, repo, 'amd64', amd);
  await pushRawImage(registry.url, repo, 'arm64', arm);
  await pushRawImage(registry.url, repo, 'att', att);
}, 60_000);
afterAll(async () => {
  await registry?.stop();
  if (work) await removeTempRoot(work);
});

describe.skipIf(skip)('an index of indexes', () => {
  it('pulls index → index → manifest, stores every index, keeps them through prune, inspects and unpacks', async () => {
    // buildx's shape, one level down: attestations first, then the images.
    const inner = await putIndex([
      imageEntry(att, { platform: { os: 'unknown', architecture: 'unknown' } }),
      imageEntry(att, { annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } }),
      imageEntry(arm, { platform: ARM64 }),
      imageEntry(amd, { platform: AMD64 }),
    ]);
    const top = await putIndex([{ ...inner.entry, platform: AMD64 }, imageEntry(arm, { platform: ARM64 })]);
    const root = newRoot();
    const pulled = await pull(root, top.ref);
    expect(pulled.stderr).toBe('');
    expect(pulled.stdout).toContain(`pulled ${top.ref} (${sha256(amd.manifest)})`);
    expect(pulled.code).toBe(0);

    const inspect = JSON.parse((await runBerth(['--root', root, 'image', 'inspect', top.ref])).stdout);
    expect(inspect).toMatchObject({
      digest: sha256(amd.manifest),
      repoDigest: top.entry.digest,
      platform: AMD64,
    });

    const blob = (d: string) => join(root, 'content', 'blobs', 'sha256', d.slice('sha256:'.length));
    const prune = await runBerth(['--root', root, 'image', 'prune', '-o', 'json']);
    expect(prune.code).toBe(0);
    expect(JSON.parse(prune.stdout).removedBlobs).toEqual([]);
    for (const d of [top.entry.digest, inner.entry.digest, sha256(amd.manifest)]) await access(blob(d));

    const dest = join(work, `dest-${n}`);
    const unpack = await runBerth(['--root', root, 'image', 'unpack', top.ref, dest]);
    expect(unpack.stderr).toBe('');
    expect(await readFile(join(dest, 'which'), 'utf8')).toBe('amd64\n');

    // The other platform through the same top index; by digest too.
    const byDigest = `${registry.host}/${repo}@${top.entry.digest}`;
    expect((await pull(root, byDigest, 'linux/arm64')).code).toBe(0);
    const armInspect = JSON.parse((await runBerth(['--root', root, 'image', 'inspect', byDigest])).stdout);
    expect(armInspect).toMatchObject({ digest: sha256(arm.manifest), repoDigest: top.entry.digest });
  });

  it('follows a chain of 8 indexes and refuses a ninth with ERR_INDEX_TOO_DEEP naming it', async () => {
    const eight = await chain(8);
    const ok = await pull(newRoot(), eight.ref);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);

    const nine = await chain(9);
    const res = await pull(newRoot(), nine.ref);
    expect(res.stderr).toBe(
      `berth: ERR_INDEX_TOO_DEEP: ${nine.ref}: index ${nine.digests[8]} is nested too deep (berth follows a chain of at most 8 indexes)\n`,
    );
    expect(res.code).toBe(7);
  });

  it('finds the one match of a wide index, and names a bounded few of its platforms when none matches', async () => {
    const inner = await putIndex([imageEntry(amd, { platform: AMD64 })]);
    const others = Array.from({ length: 3000 }, (_, i) =>
      imageEntry(arm, { platform: { os: 'plan9', architecture: `a${i}` } }),
    );
    const wide = await putIndex([...others, { ...inner.entry, platform: AMD64 }]);
    const ok = await pull(newRoot(), wide.ref);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);

    const none = await pull(newRoot(), wide.ref, 'linux/riscv64');
    const shown = Array.from({ length: 8 }, (_, i) => `plan9/a${i}`).join(', ');
    expect(none.stderr).toBe(
      `berth: ERR_NO_MATCHING_PLATFORM: ${wide.ref}: no image for platform linux/riscv64 (index offers: ${shown} and 2993 more) (choose one with --platform)\n`,
    );
    expect(none.code).toBe(3);
  });

  it('refuses an entry that lies about its media type, at either level', async () => {
    // The top says index; the registry serves a manifest.
    const top = await putIndex([imageEntry(amd, { mediaType: OCI_INDEX, platform: AMD64 })]);
    const res = await pull(newRoot(), top.ref);
    expect(res.stderr).toBe(
      `berth: ERR_MEDIA_TYPE_MISMATCH: ${top.ref}: manifest ${sha256(amd.manifest)} was served as ${OCI_MANIFEST} but the index says ${OCI_INDEX}\n`,
    );
    expect(res.code).toBe(6);

    // One level down, an entry says manifest; the registry serves an index.
    const leaf = await putIndex([imageEntry(amd, { platform: AMD64 })]);
    const inner = await putIndex([{ ...leaf.entry, mediaType: OCI_MANIFEST }]);
    const outer = await putIndex([inner.entry]);
    const deep = await pull(newRoot(), outer.ref);
    expect(deep.stderr).toBe(
      `berth: ERR_MEDIA_TYPE_MISMATCH: ${outer.ref}: manifest ${leaf.entry.digest} was served as ${OCI_INDEX} but the index says ${OCI_MANIFEST}\n`,
    );
    expect(deep.code).toBe(6);
  });

  it('refuses an entry that lies about its size, for an index and for a manifest below one', async () => {
    const inner = await putIndex([imageEntry(amd, { platform: AMD64 })]);
    const short = await putIndex([{ ...inner.entry, size: inner.entry.size - 1 }]);
    const res = await pull(newRoot(), short.ref);
    expect(res.stderr).toBe(
      `berth: ERR_SIZE_MISMATCH: ${registry.host}/${repo}@${inner.entry.digest}: manifest is ${inner.entry.size} bytes, index says ${inner.entry.size - 1}\n`,
    );
    expect(res.code).toBe(6);

    const lying = await putIndex([imageEntry(amd, { platform: AMD64, size: amd.manifest.length + 7 })]);
    const outer = await putIndex([lying.entry]);
    const deep = await pull(newRoot(), outer.ref);
    expect(deep.stderr).toBe(
      `berth: ERR_SIZE_MISMATCH: ${registry.host}/${repo}@${sha256(amd.manifest)}: manifest is ${amd.manifest.length} bytes, index says ${amd.manifest.length + 7}\n`,
    );
    expect(deep.code).toBe(6);
  });

  it('follows an index that names its sibling, and a ladder of indexes each naming the next twice, to an end', async () => {
    const b = await putIndex([imageEntry(amd, { platform: AMD64 })]);
    const a = await putIndex([b.entry]);
    const top = await putIndex([{ ...a.entry, platform: AMD64 }, b.entry]);
    const root = newRoot();
    const res = await pull(root, top.ref);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const inspect = JSON.parse((await runBerth(['--root', root, 'image', 'inspect', top.ref])).stdout);
    expect(inspect).toMatchObject({ digest: sha256(amd.manifest), repoDigest: top.entry.digest });

    let rung: Entry = imageEntry(amd);
    let ref = '';
    for (let i = 0; i < 8; i++) {
      const put = await putIndex([rung, rung]);
      rung = put.entry;
      ref = put.ref;
    }
    const ladder = await pull(newRoot(), ref);
    expect(ladder.stderr).toBe('');
    expect(ladder.code).toBe(0);
  });

  it('says which nested index offers no image for the platform', async () => {
    const inner = await putIndex([imageEntry(arm, { platform: ARM64 })]);
    const top = await putIndex([inner.entry]);
    const res = await pull(newRoot(), top.ref);
    expect(res.stderr).toBe(
      `berth: ERR_NO_MATCHING_PLATFORM: ${top.ref}: no image for platform linux/amd64 (index ${inner.entry.digest} offers: linux/arm64/v8) (choose one with --platform)\n`,
    );
    expect(res.code).toBe(3);
  });

  it('imports an OCI layout whose image is index → index → manifest', async () => {
    const dir = join(work, `layout-${++n}`);
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    const put = async (bytes: Buffer) => {
      const d = sha256(bytes);
      await writeFile(join(dir, 'blobs', 'sha256', d.slice('sha256:'.length)), bytes);
      return d;
    };
    for (const l of amd.layers) await put(l.blob);
    await put(amd.config);
    await put(amd.manifest);
    const inner = indexBytes([imageEntry(amd, { platform: AMD64 })]);
    const top = indexBytes([{ mediaType: OCI_INDEX, digest: await put(inner), size: inner.length }]);
    const topDigest = await put(top);
    const name = 'example.test/nested/layout:1';
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(
      join(dir, 'index.json'),
      indexBytes([
        {
          mediaType: OCI_INDEX,
          digest: topDigest,
          size: top.length,
          annotations: { 'io.containerd.image.name': name },
        },
      ]),
    );
    const root = newRoot();
    const res = await runBerth(['--root', root, 'image', 'import', '--platform', 'linux/amd64', dir]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const inspect = JSON.parse((await runBerth(['--root', root, 'image', 'inspect', name])).stdout);
    expect(inspect).toMatchObject({ digest: sha256(amd.manifest), repoDigest: topDigest, platform: AMD64 });
    for (const d of [topDigest, sha256(inner)]) {
      await access(join(root, 'content', 'blobs', 'sha256', d.slice('sha256:'.length)));
    }
  });
  it('exports an image pulled through indexes as the top index with its chain: skopeo and umoci read it, an import gives the same repo digest', async () => {
    // One level (a platform index, the other platform not pulled) and two (each index of one entry).
    const flat = await putIndex([imageEntry(arm, { platform: ARM64 }), imageEntry(amd, { platform: AMD64 })]);
    const leaf = await putIndex([imageEntry(amd, { platform: AMD64 })]);
    const nested = await putIndex([{ ...leaf.entry, platform: AMD64 }]);
    const out: Array<{ file: string; dir: string }> = [];
    for (const [top, below] of [
      [flat, []],
      [nested, [leaf.entry.digest]],
    ] as const) {
      const root = newRoot();
      expect((await pull(root, top.ref)).code).toBe(0);
      const file = join(work, `export-${++n}.tar`);
      const exported = await runBerth(['--root', root, 'image', 'export', top.ref, '-o', file]);
      expect([exported.code, exported.stderr]).toEqual([0, '']);
      const dir = join(work, `export-${n}`);
      await mkdir(dir);
      await run('tar', ['-xf', file, '-C', dir]);
      out.push({ file, dir });
      expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')).manifests).toEqual([
        {
          mediaType: OCI_INDEX,
          digest: top.entry.digest,
          size: top.entry.size,
          annotations: { 'org.opencontainers.image.ref.name': top.ref, 'io.containerd.image.name': top.ref },
        },
      ]);
      for (const d of [top.entry.digest, ...below, sha256(amd.manifest)])
        await access(join(dir, 'blobs', 'sha256', d.slice('sha256:'.length)));

      const again = newRoot();
      const imported = await runBerth([
        '--root',
        again,
        'image',
        'import',
        '--platform',
        'linux/amd64',
        file,
      ]);
      expect([imported.code, imported.stderr]).toEqual([0, '']);
      const inspect = JSON.parse((await runBerth(['--root', again, 'image', 'inspect', top.ref])).stdout);
      expect(inspect).toMatchObject({ digest: sha256(amd.manifest), repoDigest: top.entry.digest });
    }
    // skopeo (containers/image) reads an index of images, not an index of indexes from any source.
    const flatFile = out[0]?.file as string;
    const { stdout: raw } = await run('skopeo', ['inspect', '--raw', `oci-archive:${flatFile}:${flat.ref}`]);
    expect(sha256(Buffer.from(raw))).toBe(flat.entry.digest);
    const copied = join(work, `skopeo-${++n}`);
    await run('skopeo', [
      'copy',
      '-q',
      '--override-arch',
      'amd64',
      `oci-archive:${flatFile}:${flat.ref}`,
      `oci:${copied}:x`,
    ]);
    const { stdout: copiedRaw } = await run('skopeo', ['inspect', '--raw', `oci:${copied}:x`]);
    expect(sha256(Buffer.from(copiedRaw))).toBe(sha256(amd.manifest));
    // umoci 0.4 picks no platform: it reads a chain that leads to one image.
    const bundle = join(work, `bundle-${n}`);
    await run('umoci', ['unpack', '--rootless', '--image', `${out[1]?.dir}:${nested.ref}`, bundle]);
    expect(await readFile(join(bundle, 'rootfs', 'which'), 'utf8')).toBe('amd64\n');
  });
});
