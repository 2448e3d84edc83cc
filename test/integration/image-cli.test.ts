// `berth image …` end to end against a real docker-registry, with images built by umoci and pushed
// by skopeo; the resulting store is read back by skopeo and umoci.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import {
  buildImage,
  createLayout,
  headManifest,
  type Layout,
  populateBusybox,
  populateRandom,
  pushImage,
  pushIndex,
} from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildRawImage, gzipLayer, pushRawImage, putManifest, sha256 } from '../helpers/tar-bytes.js';

const run = promisify(execFile);
const skip = missingPrereqs(['docker-registry', 'skopeo', 'umoci']);

describe.skipIf(skip)('berth image against a real registry', () => {
  let registry: TestRegistry;
  let layout: Layout;
  const roots: string[] = [];
  const newRoot = async () => {
    const r = await mkdtemp(join(tmpdir(), 'berth-root-'));
    roots.push(r);
    return r;
  };
  const berth = (root: string, ...args: string[]) => runBerth(['--root', root, ...args]);

  beforeAll(async () => {
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox]);
    await buildImage(layout, 'two-layers', [populateRandom(3, 200_000)], { from: 'busybox' });
    await buildImage(layout, 'arm64', [populateRandom(1, 1000)], { arch: 'arm64' });
    await pushImage(layout, 'busybox', `${registry.host}/test/busybox:latest`);
    await pushImage(layout, 'busybox', `${registry.host}/test/busybox-docker:v2s2`, { format: 'v2s2' });
    await pushImage(layout, 'two-layers', `${registry.host}/test/app:1.0`);
    await pushImage(layout, 'arm64', `${registry.host}/test/multi:arm64`);
    const amd = await headManifest(registry.url, 'test/busybox', 'latest');
    await pushImage(layout, 'busybox', `${registry.host}/test/multi:amd64`);
    const arm = await headManifest(registry.url, 'test/multi', 'arm64');
    await pushIndex(registry.url, 'test/multi', 'latest', [
      { ...amd, platform: { os: 'linux', architecture: 'amd64' } },
      { ...arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ]);
    // Entries that say no platform (some tools write indexes so): the config says which is which.
    await pushIndex(registry.url, 'test/multi', 'unlabelled', [amd]);
    await pushIndex(registry.url, 'test/multi', 'unlabelled-arm', [arm]);
  }, 120_000);

  afterAll(async () => {
    await registry?.stop();
    await layout?.cleanup();
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });

  it('pulls, lists and is readable by skopeo and umoci', async () => {
    const root = await newRoot();
    const ref = `${registry.host}/test/busybox:latest`;
    const before = Date.now();
    const pull = await berth(root, 'image', 'pull', ref);
    expect(pull.stderr).toBe('');
    expect(pull.code).toBe(0);
    expect(pull.stdout).toMatch(new RegExp(`^pulled ${ref} \\(sha256:[a-f0-9]{64}\\)`));

    const ls = await berth(root, 'image', 'ls', '--output', 'json');
    const images = JSON.parse(ls.stdout) as Array<Record<string, unknown>>;
    expect(images).toHaveLength(1);
    // The README's shape, key for key; digest and repoDigest the registry's, pulledAt the pull's time.
    expect(Object.keys(images[0] ?? {}).sort()).toEqual(
      [
        'id',
        'name',
        'digest',
        'repoDigest',
        'platform',
        'size',
        'unpackedSize',
        'layers',
        'pulledAt',
        'lastUsedAt',
        'ambiguous',
      ].sort(),
    );
    const served = await headManifest(registry.url, 'test/busybox', 'latest');
    expect(images[0]).toMatchObject({
      name: ref,
      digest: served.digest,
      repoDigest: served.digest, // what the tag resolved to in the registry (here no index: the manifest)
      platform: 'linux/amd64',
      layers: 1,
      lastUsedAt: null,
      ambiguous: false,
    });
    const pulledAt = Date.parse(images[0]?.pulledAt as string);
    expect(pulledAt >= before - 1000 && pulledAt <= Date.now()).toBe(true);
    expect(images[0]?.id).toMatch(/^sha256:/);
    expect(images[0]?.size).toBeGreaterThan(500_000);
    expect(images[0]?.unpackedSize).toBeGreaterThan(images[0]?.size as number);

    const table = await berth(root, 'image', 'ls');
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+SIZE\s+UNPACKED\s+PULLED\s+LAST USED$/);
    expect(table.stdout).toContain(ref);

    const { stdout } = await run('skopeo', ['inspect', `oci:${join(root, 'content')}:${ref}`]);
    expect(JSON.parse(stdout)).toMatchObject({ Architecture: 'amd64', Os: 'linux' });
    const umoci = await run('umoci', ['ls', '--layout', join(root, 'content')]);
    expect(umoci.stdout.trim()).toBe(ref);
  });

  it('pulls Docker schema2 images', async () => {
    const root = await newRoot();
    const pull = await berth(root, 'image', 'pull', `${registry.host}/test/busybox-docker:v2s2`);
    expect(pull.code).toBe(0);
    const inspect = JSON.parse(
      (await berth(root, 'image', 'inspect', `${registry.host}/test/busybox-docker:v2s2`)).stdout,
    );
    expect(inspect.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(inspect.config.rootfs.diff_ids).toHaveLength(1);
  });

  it('picks the platform from an index, and says what an index offers when nothing matches', async () => {
    const root = await newRoot();
    const ref = `${registry.host}/test/multi:latest`;
    expect((await berth(root, 'image', 'pull', ref)).code).toBe(0);
    let inspect = JSON.parse((await berth(root, 'image', 'inspect', ref)).stdout);
    expect(inspect.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(inspect.repoDigest).not.toBe(inspect.digest);

    expect((await berth(root, 'image', 'pull', '--platform', 'linux/arm64', ref)).code).toBe(0);
    inspect = JSON.parse((await berth(root, 'image', 'inspect', ref)).stdout);
    expect(inspect.platform).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });

    const none = await berth(root, 'image', 'pull', '--platform', 'linux/s390x', ref);
    expect(none.code).toBe(3);
    expect(none.stderr).toBe(
      `berth: ERR_NO_MATCHING_PLATFORM: ${ref}: no image for platform linux/s390x ` +
        '(index offers: linux/amd64, linux/arm64/v8) (choose one with --platform)\n',
    );
  });

  it('picks among variants only what the platform runs: amd64/v3 never for plain amd64, arm alone is arm/v7, arm64 runs arm/v7', async () => {
    const repo = 'test/variants';
    const entries = [
      ['amd64', 'v3'],
      ['amd64', undefined],
      ['arm', 'v6'],
      ['arm', 'v7'],
    ] as const;
    const manifests = [];
    for (const [architecture, variant] of entries) {
      const tag = `${architecture}-${variant ?? 'none'}`;
      const image = buildRawImage([gzipLayer([{ name: 'which', body: tag }])]);
      await pushRawImage(registry.url, repo, tag, image);
      manifests.push({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: sha256(image.manifest),
        size: image.manifest.length,
        platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
      });
    }
    const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests };
    await putManifest(registry.url, repo, 'multi', Buffer.from(JSON.stringify(index)));
    const ref = `${registry.host}/${repo}:multi`;
    const which = async (platform: string) => {
      const root = await newRoot();
      const pull = await berth(root, 'image', 'pull', '--platform', platform, ref);
      expect([pull.code, pull.stderr]).toEqual([0, '']);
      const dest = join(root, 'dest');
      expect((await berth(root, 'image', 'unpack', ref, dest)).code).toBe(0);
      return readFile(join(dest, 'which'), 'utf8');
    };
    expect(await which('linux/amd64')).toBe('amd64-none');
    expect(await which('linux/amd64/v2')).toBe('amd64-none');
    expect(await which('linux/amd64/v4')).toBe('amd64-v3');
    expect(await which('linux/arm')).toBe('arm-v7');
    // An arm64 host runs 32-bit arm, as containerd's and Docker's matcher has it (was
    // ERR_NO_MATCHING_PLATFORM: this index has no arm64 entry).
    expect(await which('linux/arm64')).toBe('arm-v7');
  });

  it("takes an index entry that says no platform, once the image's config says it is the one asked for", async () => {
    const root = await newRoot();
    const ref = `${registry.host}/test/multi:unlabelled`;
    expect(await berth(root, 'image', 'pull', ref)).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse((await berth(root, 'image', 'inspect', ref)).stdout).platform).toEqual({
      os: 'linux',
      architecture: 'amd64',
    });
    const arm = await berth(root, 'image', 'pull', `${registry.host}/test/multi:unlabelled-arm`);
    expect(arm.code).toBe(3);
    expect(arm.stderr).toMatch(/ERR_NO_MATCHING_PLATFORM: .*: image is for linux\/arm64, not linux\/amd64/);
  });

  it('refuses a single-platform image for another platform', async () => {
    const root = await newRoot();
    const res = await berth(root, 'image', 'pull', `${registry.host}/test/multi:arm64`);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('ERR_NO_MATCHING_PLATFORM');
    expect(await readdir(join(root, 'content', 'blobs'), { recursive: true })).toEqual([]);
  });

  it('fetches nothing again that the store already holds', async () => {
    const root = await newRoot();
    await berth(root, 'image', 'pull', `${registry.host}/test/busybox:latest`);
    const app = await berth(root, 'image', 'pull', '-o', 'json', `${registry.host}/test/app:1.0`);
    // The busybox layer is shared: only the second layer is fetched.
    expect(JSON.parse(app.stdout).fetchedLayers).toBe(1);
    const again = await berth(root, 'image', 'pull', '-o', 'json', `${registry.host}/test/app:1.0`);
    expect(JSON.parse(again.stdout).fetchedLayers).toBe(0);
  });

  it('rm removes the name and frees what nothing else uses; prune frees the rest', async () => {
    const root = await newRoot();
    await berth(root, 'image', 'pull', `${registry.host}/test/busybox:latest`);
    await berth(root, 'image', 'pull', `${registry.host}/test/app:1.0`);
    const blobs = async () => (await readdir(join(root, 'content', 'blobs', 'sha256'))).length;
    const before = await blobs();
    const rm1 = await berth(root, 'image', 'rm', '-o', 'json', `${registry.host}/test/app:1.0`);
    expect(rm1.code).toBe(0);
    // app's manifest, config and own layer go; the shared busybox layer stays.
    expect(JSON.parse(rm1.stdout)).toMatchObject({
      removed: [`${registry.host}/test/app:1.0`],
      removedBlobs: 3,
    });
    expect(await blobs()).toBe(before - 3);
    const rm2 = await berth(root, 'image', 'rm', '--keep-content', `${registry.host}/test/busybox`);
    expect(rm2.code).toBe(0);
    expect(await blobs()).toBe(before - 3);
    const prune = await berth(root, 'image', 'prune', '-o', 'json');
    expect(JSON.parse(prune.stdout).removedBlobs).toHaveLength(3);
    expect(await blobs()).toBe(before - 6);
    const index = JSON.parse(await readFile(join(root, 'content', 'index.json'), 'utf8'));
    expect(index.manifests).toEqual([]);
  });

  it('an image is found by its ID as image ls shows it: inspect, unpack and rm take it; a prefix two IDs share is refused', async () => {
    // README (CLI): `image inspect REF|ID`, `image unpack REF|ID DEST`, `image rm REF|ID...`.
    const root = await newRoot();
    const layer = gzipLayer([{ name: 'which.txt', body: 'found by id' }]);
    const a = buildRawImage([layer], { config: { author: 'a' } });
    const idA = sha256(a.config);
    // A second image whose ID starts with the same 4 hex digits as the first's: the shortest prefix
    // berth takes as an ID then names two images.
    let b = a;
    for (let i = 0; sha256(b.config).slice(0, 11) !== idA.slice(0, 11) || b === a; i++) {
      b = buildRawImage([layer], { config: { author: `b${i}` } });
    }
    const refA = `${registry.host}/test/by-id:a`;
    const refB = `${registry.host}/test/by-id:b`;
    await pushRawImage(registry.url, 'test/by-id', 'a', a);
    await pushRawImage(registry.url, 'test/by-id', 'b', b);
    for (const ref of [refA, refB]) expect((await berth(root, 'image', 'pull', ref)).code).toBe(0);

    // The ID column of `image ls` is the first 12 hex digits of the config digest.
    const table = (await berth(root, 'image', 'ls')).stdout.split('\n');
    const shortA = table.find((l) => l.includes(refA))?.split(/\s+/)[0];
    expect(shortA).toBe(idA.slice(7, 19));

    for (const id of [shortA as string, idA]) {
      const inspect = await berth(root, 'image', 'inspect', id);
      expect([inspect.code, inspect.stderr]).toEqual([0, '']);
      expect(JSON.parse(inspect.stdout)).toMatchObject({ id: idA, name: refA });
    }
    // The same image under a second name: still one image by its ID (unpack refused it as two).
    const refA2 = `${registry.host}/test/by-id:a2`;
    await pushRawImage(registry.url, 'test/by-id', 'a2', a);
    expect((await berth(root, 'image', 'pull', refA2)).code).toBe(0);
    const dest = join(await newRoot(), 'dest');
    const unpack = await berth(root, 'image', 'unpack', shortA as string, dest);
    expect([unpack.code, unpack.stderr]).toEqual([0, '']);
    expect(await readFile(join(dest, 'which.txt'), 'utf8')).toBe('found by id');

    // Four hex digits both IDs start with: which image is meant is not said, so nothing is removed.
    const prefix = idA.slice(7, 11);
    const both = await berth(root, 'image', 'rm', prefix);
    expect([both.code, both.stderr.split(':').slice(0, 2).join(':')]).toEqual([2, 'berth: ERR_AMBIGUOUS']);
    expect(both.stderr.trim().split('\n')).toHaveLength(1);
    const names = async () =>
      (JSON.parse((await berth(root, 'image', 'ls', '-o', 'json')).stdout) as Array<{ name: string }>)
        .map((i) => i.name)
        .sort();
    expect(await names()).toEqual([refA, refA2, refB]);

    const removed = await berth(root, 'image', 'rm', '-o', 'json', shortA as string);
    expect([removed.code, JSON.parse(removed.stdout).removed.sort()]).toEqual([0, [refA, refA2]]);
    expect(await names()).toEqual([refB]);
    const gone = await berth(root, 'image', 'inspect', shortA as string);
    expect([gone.code, gone.stderr.split(':').slice(0, 2).join(':')]).toEqual([
      3,
      'berth: ERR_IMAGE_NOT_FOUND',
    ]);
  });

  it('two processes pulling into one root at once leave a consistent store', async () => {
    const root = await newRoot();
    const refs = [
      `${registry.host}/test/busybox:latest`,
      `${registry.host}/test/app:1.0`,
      `${registry.host}/test/multi:latest`,
    ];
    const results = await Promise.all(refs.map((r) => berth(root, 'image', 'pull', r)));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    const ls = JSON.parse((await berth(root, 'image', 'ls', '-o', 'json')).stdout) as Array<{ name: string }>;
    expect(ls.map((i) => i.name).sort()).toEqual([...refs].sort());
    expect(await readdir(join(root, 'ingest'))).toEqual(['leases']);
    expect(await readdir(join(root, 'ingest', 'leases'))).toEqual([]);
    for (const r of refs) await run('skopeo', ['inspect', `oci:${join(root, 'content')}:${r}`]);
  });

  it.each([
    [
      ['image', 'pull', 'Not/A/Valid:Ref'],
      2,
      /^berth: ERR_REFERENCE_INVALID: invalid reference "Not\/A\/Valid:Ref": repository must be lowercase/,
    ],
    [['image', 'pull'], 2, /^berth: ERR_USAGE: usage: berth image pull REF/],
    [['image', 'frobnicate'], 2, /^berth: ERR_USAGE: unknown command "image frobnicate"/],
    [
      ['image', 'inspect', 'nothing:here'],
      3,
      /^berth: ERR_IMAGE_NOT_FOUND: image "nothing:here" is not in the store/,
    ],
    [['image', 'ls', '--output', 'yaml'], 2, /^berth: ERR_USAGE: --output must be table or json/],
  ])('%j fails with one clear line', async (args, code, line) => {
    const root = await newRoot();
    const res = await berth(root, ...args);
    expect(res.code).toBe(code);
    expect(res.stderr).toMatch(line);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names the reference when the registry does not have it', async () => {
    const root = await newRoot();
    const res = await berth(root, 'image', 'pull', `${registry.host}/test/missing:1`);
    expect(res.code).toBe(3);
    expect(res.stderr).toBe(
      `berth: ERR_MANIFEST_NOT_FOUND: ${registry.host}/test/missing:1: manifest not found\n`,
    );
  });

  it('has help for every command', async () => {
    const root = await newRoot();
    const main = await berth(root, '--help');
    expect(main.code).toBe(0);
    for (const cmd of ['pull', 'ls', 'rm', 'inspect', 'prune']) {
      expect(main.stdout).toContain(`image ${cmd}`);
      const help = await berth(root, 'image', cmd, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: berth image ${cmd}`));
    }
  });
});

describe('a --root that cannot be a store', () => {
  it('is one clear line, never a hang: under /proc (where mkdir -p never ends) and on a file', async () => {
    for (const args of [
      ['image', 'prune'],
      ['image', 'pull', '127.0.0.1:1/x:y'],
    ]) {
      const res = await runBerth(['--root', '/proc/berth-nope', ...args]);
      expect(res.stderr).toBe(
        'berth: ERR_STORE_UNWRITABLE: cannot create the store at /proc/berth-nope: ENOENT\n',
      );
      expect(res.code).toBe(2);
    }
    const dir = await mkdtemp(join(tmpdir(), 'berth-rootfile-'));
    try {
      await writeFile(join(dir, 'file'), '');
      const res = await runBerth(['--root', join(dir, 'file'), 'image', 'ls']);
      expect(res.stderr).toBe(
        `berth: ERR_STORE_NOT_DIRECTORY: store ${join(dir, 'file')} is not a directory (point --root at a directory)\n`,
      );
      expect(res.code).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
