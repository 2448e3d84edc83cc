// `image import` of an archive made for another platform. An export of an image pulled for arm64
// keeps the whole index it was pulled through (as `ctr export --platform` and `docker save` with the
// containerd store write it), with only arm64's manifest and blobs: imported on an amd64 host
// without --platform, the amd64 entry was chosen and the line said ERR_BLOB_NOT_FOUND (the archive
// "has no blob" of a digest), nothing about platforms. It now says, as a pull says of an index
// without the platform, which platform was asked for, which ones the archive holds, and to choose
// one with --platform; with --platform it imports. An archive whose index lists only arm64 says
// what the index offers, as a pull does.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

const skip = missingPrereqs(['docker-registry'], { root: true });

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

let registry: TestRegistry;
let work: string;
let amd: BuiltImage;
let arm: BuiltImage;
const repo = 'platforms/app';
beforeAll(async () => {
  if (skip) return;
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'berth-import-platforms-'));
  amd = buildRawImage([gzipLayer([{ name: 'arch', body: 'amd64\n' }])]);
  arm = buildRawImage([gzipLayer([{ name: 'arch', body: 'arm64\n' }])], {
    config: { architecture: 'arm64', variant: 'v8' },
  });
  await pushRawImage(registry.url, repo, 'amd', amd);
  await pushRawImage(registry.url, repo, 'arm', arm);
}, 60_000);
afterAll(async () => {
  await registry?.stop();
  if (work) await removeTempRoot(work);
});

const entry = (image: BuiltImage, platform: Record<string, string>) => ({
  mediaType: OCI_MANIFEST,
  digest: sha256(image.manifest),
  size: image.manifest.length,
  platform,
});

/** An index of `manifests` under `tag`, pulled for arm64 and exported to a file; its ref and file. */
async function armExport(tag: string, manifests: object[]) {
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  await putManifest(registry.url, repo, tag, body);
  const ref = `${registry.host}/${repo}:${tag}`;
  const root = join(work, `pulled-${tag}`);
  const pulled = await runBerth(['--root', root, 'image', 'pull', '--platform', 'linux/arm64/v8', ref]);
  expect([pulled.code, pulled.stderr]).toEqual([0, '']);
  const file = join(work, `${tag}.tar`);
  const exported = await runBerth(['--root', root, 'image', 'export', ref, '-o', file]);
  expect([exported.code, exported.stderr]).toEqual([0, '']);
  return { ref, file };
}

const quoteRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.skipIf(skip)('importing an archive made for another platform', () => {
  it('says which platforms the archive holds and how to choose one, as a pull says it; --platform imports', async () => {
    const { ref, file } = await armExport('both', [entry(amd, AMD64), entry(arm, ARM64)]);
    const res = await runBerth(['--root', join(work, 'import-host'), 'image', 'import', file]);
    expect(res.stderr).toMatch(
      new RegExp(
        `^berth: ERR_NO_MATCHING_PLATFORM: ${quoteRe(ref)}: no image for platform linux/amd64(/v\\d)? in ${quoteRe(file)} \\(it holds: linux/arm64/v8; its index lists: linux/amd64, linux/arm64/v8\\) \\(choose one with --platform\\)\\n$`,
      ),
    );
    expect(res.code).toBe(3);

    const root = join(work, 'import-arm');
    const chosen = await runBerth(['--root', root, 'image', 'import', '--platform', 'linux/arm64/v8', file]);
    expect([chosen.code, chosen.stderr]).toEqual([0, '']);
    const dest = join(work, 'dest-arm');
    expect((await runBerth(['--root', root, 'image', 'unpack', ref, dest])).code).toBe(0);
  });

  it('an index that lists only arm64: what it offers, as a pull of it says', async () => {
    const { ref, file } = await armExport('arm-only', [entry(arm, ARM64)]);
    const imported = await runBerth(['--root', join(work, 'import-arm-only'), 'image', 'import', file]);
    const pulled = await runBerth(['--root', join(work, 'pull-arm-only'), 'image', 'pull', ref]);
    const want = new RegExp(
      `^berth: ERR_NO_MATCHING_PLATFORM: ${quoteRe(ref)}: no image for platform linux/amd64(/v\\d)? \\(index offers: linux/arm64/v8\\) \\(choose one with --platform\\)\\n$`,
    );
    expect(imported.stderr).toMatch(want);
    expect(pulled.stderr).toMatch(want);
    expect([imported.code, pulled.code]).toEqual([3, 3]);
  });
});
