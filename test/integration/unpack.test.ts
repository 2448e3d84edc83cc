// `berth image unpack` against `umoci unpack` of the same images (differential), and hostile layers
// written byte by byte that try to reach outside the destination.
import { execFile, execFileSync } from 'node:child_process';
import {
  chmod,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContentStore } from '../../src/content/index.js';
import type { ImageRecord } from '../../src/content/types.js';
import { describeImage } from '../../src/images/index.js';
import type { Descriptor } from '../../src/oci/descriptor.js';
import type { Digest } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { chainIds } from '../../src/snapshot/chain.js';
import { createSnapshotter } from '../../src/snapshot/ensure-snapshots.js';
import { createSnapshotStore } from '../../src/snapshot/snapshot-store.js';
import { applyLayerBlob, runUnpackJob, type UnpackRunner } from '../../src/snapshot/unpack-image.js';
import { runBerth } from '../helpers/cli.js';
import { sha256 } from '../helpers/hostile-registry.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';
import { describeTree, xattrOf } from '../helpers/tree.js';

const run = promisify(execFile);
const skip = missingPrereqs(['docker-registry', 'skopeo', 'umoci', 'getfattr', 'setfattr', 'mknod'], {
  root: true,
});

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-unpack-'));
});
afterAll(async () => {
  await removeTempRoot(work);
});

/** Everything point 3 of the unpack issue lists, spread over two layers (the second deletes). */
async function fidelityLayer1(rootfs: string): Promise<void> {
  await populateBusybox(rootfs);
  await mkdir(join(rootfs, 'perm/sticky'), { recursive: true });
  await chmod(join(rootfs, 'perm/sticky'), 0o1777);
  await writeFile(join(rootfs, 'perm/setuid'), 'x');
  await chmod(join(rootfs, 'perm/setuid'), 0o4755);
  await writeFile(join(rootfs, 'perm/setgid'), 'x');
  await chmod(join(rootfs, 'perm/setgid'), 0o2711);
  await writeFile(join(rootfs, 'perm/owned'), 'owned by 1234:5678');
  execFileSync('chown', ['1234:5678', join(rootfs, 'perm/owned')]);
  await writeFile(join(rootfs, 'hard-a'), 'shared inode');
  await link(join(rootfs, 'hard-a'), join(rootfs, 'hard-b'));
  await symlink('../etc/passwd', join(rootfs, 'perm/rel-link'));
  await symlink('/nowhere/at/all', join(rootfs, 'dangling'));
  execFileSync('mknod', [join(rootfs, 'fifo'), 'p']);
  execFileSync('mknod', [join(rootfs, 'null-dev'), 'c', '1', '3']);
  const long = 'd'.repeat(120);
  await mkdir(join(rootfs, long, long), { recursive: true });
  await writeFile(join(rootfs, long, long, `${'f'.repeat(200)}.txt`), 'long names');
  await writeFile(join(rootfs, 'ünïcødé-名前'), 'a UTF-8 name, carried in a PAX record');
  // A name that is not UTF-8 (bytes e9 ff): it must arrive byte for byte.
  await writeFile(
    Buffer.concat([Buffer.from(join(rootfs, 'latin1-')), Buffer.from([0xe9, 0xff])]) as Buffer<ArrayBuffer>,
    'x',
  );
  await writeFile(join(rootfs, 'xattr-file'), 'has an xattr');
  execFileSync('setfattr', ['-n', 'user.berth.test', '-v', 'hello', join(rootfs, 'xattr-file')]);
  await mkdir(join(rootfs, 'gone-dir/sub'), { recursive: true });
  await writeFile(join(rootfs, 'gone-dir/sub/file'), 'deleted in layer 2');
  await writeFile(join(rootfs, 'gone-file'), 'deleted in layer 2');
  await mkdir(join(rootfs, 'replaced'), { recursive: true });
  await writeFile(join(rootfs, 'replaced/old'), 'old');
}

async function fidelityLayer2(rootfs: string): Promise<void> {
  await rm(join(rootfs, 'gone-dir'), { recursive: true });
  await rm(join(rootfs, 'gone-file'));
  await rm(join(rootfs, 'replaced'), { recursive: true });
  await mkdir(join(rootfs, 'replaced'));
  await writeFile(join(rootfs, 'replaced/new'), 'new');
  await writeFile(join(rootfs, 'hard-a'), 'rewritten in layer 2');
}

describe.skipIf(skip)('unpack is identical to umoci unpack', () => {
  let registry: TestRegistry;
  let layout: Layout;
  beforeAll(async () => {
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'fidelity', [fidelityLayer1, fidelityLayer2]);
    await pushImage(layout, 'fidelity', `${registry.host}/test/fidelity:1`);
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    await layout?.cleanup();
  });

  it('file for file: type, mode, owner, size, content, link target, device, link count, mtime', async () => {
    const root = join(work, 'store-fidelity');
    const ref = `${registry.host}/test/fidelity:1`;
    expect((await runBerth(['--root', root, 'image', 'pull', ref])).code).toBe(0);
    const ours = join(work, 'ours');
    const res = await runBerth(['--root', root, 'image', 'unpack', ref, ours]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    await run('umoci', ['unpack', '--image', `${join(layout.dir, 'oci')}:fidelity`, join(work, 'umoci')]);
    const theirs = describeTree(join(work, 'umoci/rootfs'));
    expect(describeTree(ours)).toEqual(theirs);
    // The cases the listing must contain, so the comparison cannot pass vacuously.
    const listing = theirs.join('\n');
    for (const needle of [
      '/perm/setuid 104755',
      '/perm/sticky 41777',
      '/perm/owned 100644 1234:5678',
      'n2 ',
      '/fifo 10',
      '/null-dev 20',
      '-> ../etc/passwd',
      '/replaced/new',
      '/latin1-\xe9\xff',
    ]) {
      expect(listing).toContain(needle);
    }
    for (const absent of ['/gone-dir', '/gone-file', '/replaced/old']) expect(listing).not.toContain(absent);
    expect(xattrOf(join(ours, 'xattr-file'), 'user.berth.test')).toBe(
      xattrOf(join(work, 'umoci/rootfs/xattr-file'), 'user.berth.test'),
    );
    expect(xattrOf(join(ours, 'xattr-file'), 'user.berth.test')).toBe('hello');
  });

  it('the native snapshotter (hosts without overlayfs) gives the same tree, one full tree per layer', async () => {
    const root = join(work, 'store-native');
    const config = join(work, 'native.yaml');
    await writeFile(config, 'unpack: { snapshotter: native }\n');
    const ref = `${registry.host}/test/fidelity:1`;
    const res = await runBerth(['--root', root, '--config', config, 'image', 'pull', '-o', 'json', ref]);
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout).unpackedLayers).toBe(2);
    expect(await readdir(join(root, 'snapshots'))).toEqual(['native']);
    const store = createContentStore({ root });
    const details = await describeImage(store, (await store.getImage(ref)) as ImageRecord);
    const [lower, top] = chainIds(details.config.rootfs.diff_ids).map((id) =>
      join(root, 'snapshots/native', id.slice(7), 'fs'),
    );
    await run('umoci', [
      'unpack',
      '--image',
      `${join(layout.dir, 'oci')}:fidelity`,
      join(work, 'umoci-native'),
    ]);
    expect(describeTree(top as string)).toEqual(describeTree(join(work, 'umoci-native/rootfs')));
    // The layer below is its own whole tree, from before layer 2 deleted and rewrote.
    expect(await readFile(join(lower as string, 'gone-file'), 'utf8')).toBe('deleted in layer 2');
    expect(await readFile(join(lower as string, 'hard-b'), 'utf8')).toBe('shared inode');
    const ls = JSON.parse(
      (await runBerth(['--root', root, '--config', config, 'image', 'ls', '-o', 'json'])).stdout,
    );
    expect(ls[0].unpackedSize).toBeGreaterThan(0);
    // Collected like overlay snapshots once no image uses them.
    expect((await runBerth(['--root', root, 'image', 'rm', ref])).code).toBe(0);
    expect(await readdir(join(root, 'snapshots/native'))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Hostile layers, written byte by byte, applied through the CLI to a fresh destination each.

type Entry = {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo';
  body?: string;
  linkname?: string;
  mode?: number;
  uid?: number;
  /** PAX records (SCHILY.xattr.* for xattrs). */
  pax?: Record<string, string>;
};

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries) {
    const type = e.type ?? 'file';
    pack.entry(
      {
        name: e.name,
        type,
        linkname: e.linkname,
        mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
        ...(e.uid !== undefined ? { uid: e.uid, gid: e.uid } : {}),
        ...(e.pax ? { pax: e.pax } : {}),
      },
      e.body ?? '',
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A snapshotter (overlay form, two layers at once) for image `name` of the store at `root`. */
async function snapshotterOf(root: string, name: string) {
  const store = createContentStore({ root });
  const record = await store.getImage(name);
  const details = await describeImage(store, record as NonNullable<typeof record>);
  const snapshots = createSnapshotStore(root);
  const snapshotter = await createSnapshotter(
    { store, snapshots, now: () => new Date(), concurrency: 2 },
    details.config,
    { maxLayerBytes: 1 << 30, maxImageBytes: 1 << 30, reserveBytes: 0 },
  );
  return { snapshotter, snapshots, details };
}

/** Put an image made of these layers straight into a store; returns its name. */
async function storeImage(
  root: string,
  layers: Entry[][],
  corrupt?: (gz: Buffer) => Buffer,
): Promise<string> {
  const store = createContentStore({ root });
  const layerDescs = [];
  const diffIds = [];
  for (const entries of layers) {
    const raw = await tarOf(entries);
    let gz: Buffer = gzipSync(raw);
    if (corrupt) gz = corrupt(gz);
    const desc = {
      mediaType: MediaType.ociLayerGzip,
      digest: sha256(gz) as `sha256:${string}`,
      size: gz.length,
    };
    await store.putBlob(desc, gz);
    layerDescs.push(desc);
    diffIds.push(sha256(raw));
  }
  const config = Buffer.from(
    JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: diffIds } }),
  );
  const configDesc = {
    mediaType: MediaType.ociConfig,
    digest: sha256(config) as `sha256:${string}`,
    size: config.length,
  };
  await store.putBlob(configDesc, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: configDesc,
      layers: layerDescs,
    }),
  );
  const target = {
    mediaType: MediaType.ociManifest,
    digest: sha256(manifest) as `sha256:${string}`,
    size: manifest.length,
  };
  await store.putBlob(target, manifest);
  await store.putImage({
    name: 'example.com/hostile:1',
    target,
    repoDigest: target.digest,
    pulledAt: new Date().toISOString(),
  });
  return 'example.com/hostile:1';
}

/** One layer set per escape class: each must write nothing outside its tree. */
const ESCAPES: Array<[string, Entry[][]]> = [
  ['.. in a name', [[{ name: '../../outside/victim', body: 'pwned' }]]],
  ['an absolute name', [[{ name: '/outside/victim', body: 'pwned' }]]],
  [
    'a symlink made earlier in the layer',
    [
      [
        { name: 'esc', type: 'symlink', linkname: '../outside' },
        { name: 'esc/victim', body: 'pwned' },
      ],
    ],
  ],
  [
    'an absolute symlink',
    [
      [
        { name: 'esc', type: 'symlink', linkname: '/outside' },
        { name: 'esc/victim', body: 'pwned' },
      ],
    ],
  ],
  [
    'a symlink in a lower layer',
    [[{ name: 'esc', type: 'symlink', linkname: '../../outside' }], [{ name: 'esc/victim', body: 'pwned' }]],
  ],
  [
    'a chain of symlinks',
    [
      [
        { name: 'a', type: 'symlink', linkname: 'b/..' },
        { name: 'b', type: 'symlink', linkname: '../../..' },
        { name: 'a/outside/victim', body: 'pwned' },
      ],
    ],
  ],
  [
    'a whiteout through a symlink',
    [[{ name: 'esc', type: 'symlink', linkname: '../outside' }], [{ name: 'esc/.wh.victim' }]],
  ],
  ['a whiteout with ..', [[{ name: '../outside/.wh.victim' }]]],
  [
    'a directory entry over a symlink',
    [
      [
        { name: 'esc', type: 'symlink', linkname: '../outside' },
        { name: 'esc', type: 'directory', mode: 0o777 },
      ],
    ],
  ],
];

/** Hardlinks that point outside: refused (ERR_LAYER_UNSAFE). */
const HARDLINK_ESCAPES: Array<[string, Entry[][]]> = [
  ['a hardlink to a file outside', [[{ name: 'h', type: 'link', linkname: '../outside/victim' }]]],
  [
    'a hardlink through a symlink',
    [
      [
        { name: 'esc', type: 'symlink', linkname: '../outside' },
        { name: 'h', type: 'link', linkname: 'esc/victim' },
      ],
    ],
  ],
];

describe.skipIf(skip)('hostile layers never reach outside the destination', () => {
  let n = 0;
  async function attempt(layers: Entry[][], config?: string) {
    const dir = join(work, `hostile-${n++}`);
    const outside = join(dir, 'outside');
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'victim'), 'precious');
    await chmod(join(outside, 'victim'), 0o600);
    const root = join(dir, 'store');
    const name = await storeImage(root, layers);
    const dest = join(dir, 'dest');
    const args = ['--root', root, 'image', 'unpack', name, dest];
    if (config) {
      await writeFile(join(dir, 'config.yaml'), config);
      args.unshift('--config', join(dir, 'config.yaml'));
    }
    const res = await runBerth(args);
    expect(await readFile(join(outside, 'victim'), 'utf8')).toBe('precious');
    expect((await stat(join(outside, 'victim'))).mode & 0o7777).toBe(0o600);
    expect(execFileSync('ls', ['-A', outside]).toString().trim()).toBe('victim');
    return { res, dest, outside };
  }

  it.each(ESCAPES)('%s', async (_name, layers) => {
    const { res } = await attempt(layers as Entry[][]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  });

  it.each(HARDLINK_ESCAPES)('%s fails cleanly and removes what it wrote', async (_name, layers) => {
    const { res, dest } = await attempt(layers as Entry[][]);
    expect(res.stderr).toMatch(
      /^berth: ERR_LAYER_UNSAFE: layer sha256:[a-f0-9]{64} of example.com\/hostile:1: entry h: a hardlink to .*, which does not exist\n$/,
    );
    expect(res.code).toBe(6);
    await expect(stat(dest)).rejects.toThrow(/ENOENT/);
  });

  it('a decompression bomb is stopped at the cap and leaves nothing', async () => {
    const { res, dest } = await attempt(
      [[{ name: 'zeros', body: '\0'.repeat(20 << 20) }]],
      'unpack: { maxLayerBytes: 1048576 }\n',
    );
    expect(res.stderr).toMatch(
      /^berth: ERR_LAYER_TOO_LARGE: layer sha256:[a-f0-9]{64} of example.com\/hostile:1: uncompressed size exceeds 1048576 bytes/,
    );
    expect(res.code).toBe(7);
    await expect(stat(dest)).rejects.toThrow(/ENOENT/);
  });

  it('a bomb on a small file system stops at the free-space reserve and leaves nothing', async () => {
    const dir = join(work, 'small-fs');
    await mkdir(dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', dir]);
    try {
      const root = join(dir, 'store');
      const name = await storeImage(root, [[{ name: 'zeros', body: '\0'.repeat(64 << 20) }]]);
      await writeFile(join(dir, 'config.yaml'), `unpack: { reserveBytes: ${8 << 20} }\n`);
      const dest = join(dir, 'dest');
      const res = await runBerth([
        '--root',
        root,
        '--config',
        join(dir, 'config.yaml'),
        'image',
        'unpack',
        name,
        dest,
      ]);
      expect(res.stderr).toMatch(
        /^berth: ERR_NO_SPACE: layer sha256:[a-f0-9]{64} of example.com\/hostile:1: only \d+ bytes free on the destination, below the reserve/,
      );
      expect(res.code).toBe(7);
      await expect(stat(dest)).rejects.toThrow(/ENOENT/);
    } finally {
      execFileSync('umount', [dir]);
    }
  });

  it('refuses a DEST that is a file or not empty, and changes neither', async () => {
    const dir = join(work, 'dest-checks');
    const root = join(dir, 'store');
    const name = await storeImage(root, [[{ name: 'f', body: 'x' }]]);
    await writeFile(join(dir, 'a-file'), 'keep');
    await mkdir(join(dir, 'full'));
    await writeFile(join(dir, 'full/mine'), 'keep');
    const asFile = await runBerth(['--root', root, 'image', 'unpack', name, join(dir, 'a-file')]);
    expect([asFile.code, asFile.stderr]).toEqual([
      2,
      `berth: ERR_DEST_NOT_DIRECTORY: ${join(dir, 'a-file')} exists and is not a directory\n`,
    ]);
    const full = await runBerth(['--root', root, 'image', 'unpack', name, join(dir, 'full')]);
    expect([full.code, full.stderr]).toEqual([
      2,
      `berth: ERR_DEST_NOT_EMPTY: ${join(dir, 'full')} is not empty\n`,
    ]);
    expect(await readFile(join(dir, 'a-file'), 'utf8')).toBe('keep');
    expect(await readFile(join(dir, 'full/mine'), 'utf8')).toBe('keep');
  });

  it('a truncated layer is ERR_LAYER_CORRUPT', async () => {
    const dir = join(work, 'truncated');
    const root = join(dir, 'store');
    const name = await storeImage(root, [[{ name: 'f', body: 'x'.repeat(100_000) }]], (gz) =>
      gz.subarray(0, gz.length - 200),
    );
    const res = await runBerth(['--root', root, 'image', 'unpack', name, join(dir, 'dest')]);
    expect(res.stderr).toMatch(/^berth: ERR_LAYER_CORRUPT: layer sha256:/);
    expect(res.code).toBe(6);
  });
});

describe.skipIf(skip)('overlay form', () => {
  it('layers applied as overlay lower directories mount to the same tree as the native unpack', async () => {
    const dir = join(work, 'overlay');
    const layers: Entry[][] = [
      [
        { name: 'keep', body: 'kept' },
        { name: 'gone', body: 'deleted above' },
        { name: 'opaque/', type: 'directory' },
        { name: 'opaque/old', body: 'hidden by an opaque marker' },
      ],
      [{ name: '.wh.gone' }, { name: 'opaque/.wh..wh..opq' }, { name: 'opaque/new', body: 'only this' }],
    ];
    const root = join(dir, 'store');
    const name = await storeImage(root, layers);
    const native = join(dir, 'native');
    expect((await runBerth(['--root', root, 'image', 'unpack', name, native])).code).toBe(0);

    const store = createContentStore({ root });
    const record = await store.getImage(name);
    const details = await describeImage(store, record as NonNullable<typeof record>);
    const lowers: string[] = [];
    for (const [i, layer] of details.manifest.layers.entries()) {
      const lower = join(dir, `layer${i}`);
      await mkdir(lower);
      await applyLayerBlob(store, layer, details.config.rootfs.diff_ids[i] as string, lower, {
        mode: 'overlay',
        maxBytes: 1 << 30,
        reserveBytes: 0,
        preserveOwnership: true,
      });
      lowers.unshift(lower);
    }
    const wh = await stat(join(dir, 'layer1/gone'));
    expect([wh.isCharacterDevice(), wh.rdev]).toEqual([true, 0]);
    expect(xattrOf(join(dir, 'layer1/opaque'), 'trusted.overlay.opaque')).toBe('y');

    const mnt = join(dir, 'mnt');
    await mkdir(mnt);
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowers.join(':')}`, mnt]);
    try {
      expect(describeTree(mnt)).toEqual(describeTree(native));
      expect(describeTree(mnt).map((l) => l.split(' ')[0])).toEqual(['/keep', '/opaque', '/opaque/new']);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});

describe.skipIf(skip)(
  'hostile layers in overlay form (every pull) never reach outside their snapshot',
  () => {
    let n = 0;
    /** Unpack `layers` into snapshots as a pull does; what was written outside them, and the outcome. */
    async function attemptSnapshots(layers: Entry[][]) {
      const dir = join(work, `hostile-overlay-${n++}`);
      const outside = join(dir, 'outside');
      await mkdir(outside, { recursive: true });
      await writeFile(join(outside, 'victim'), 'precious');
      await chmod(join(outside, 'victim'), 0o600);
      const root = join(dir, 'store');
      const name = await storeImage(root, layers);
      const store = createContentStore({ root });
      const record = await store.getImage(name);
      const details = await describeImage(store, record as NonNullable<typeof record>);
      const snapshots = createSnapshotStore(root);
      const snapshotter = await createSnapshotter(
        { store, snapshots, now: () => new Date(), concurrency: 2, image: name },
        details.config,
        { maxLayerBytes: 1 << 30, maxImageBytes: 1 << 30, reserveBytes: 0 },
      );
      const descs = details.manifest.layers as Descriptor[];
      const outcome = await Promise.all(descs.map((l, i) => snapshotter.layer(i, l))).then(
        () => 'ok',
        (err: { code?: string }) => err.code,
      );
      const ids = chainIds(details.config.rootfs.diff_ids);
      const trees = ids.map((id) => snapshots.fsPath(id));
      // Every file under the case's directory that a layer wrote ('pwned'), outside the snapshots' trees.
      const strays: string[] = [];
      const walk = async (p: string): Promise<void> => {
        if (trees.includes(p)) return;
        const st = await lstat(p); // never followed: a symlink a layer made is a leaf here
        if (st.isDirectory()) for (const n of await readdir(p)) await walk(join(p, n));
        else if (st.isFile() && (await readFile(p, 'utf8')) === 'pwned') strays.push(p.slice(dir.length));
      };
      await walk(dir);
      expect(strays).toEqual([]);
      expect(await readFile(join(outside, 'victim'), 'utf8')).toBe('precious');
      expect((await stat(join(outside, 'victim'))).mode & 0o7777).toBe(0o600);
      expect(await readdir(outside)).toEqual(['victim']);
      const published = await Promise.all(ids.map(async (id) => (await snapshots.get(id)) !== undefined));
      return { outcome, published };
    }

    it.each(ESCAPES)('%s', async (_name, layers) => {
      const { outcome, published } = await attemptSnapshots(layers);
      expect(outcome).toBe('ok');
      expect(published.every(Boolean)).toBe(true);
    });

    it.each(HARDLINK_ESCAPES)('%s is refused and its snapshot never published', async (_name, layers) => {
      const { outcome, published } = await attemptSnapshots(layers);
      expect([outcome, published]).toEqual(['ERR_LAYER_UNSAFE', [false]]);
    });
  },
);

describe.skipIf(skip)('hardlinks into lower layers, in overlay form', () => {
  /** A snapshotter whose unpack runner is the real one, counting how often each blob is read. */
  const countingSnapshotter = async (root: string, name: string) => {
    const store = createContentStore({ root });
    const record = await store.getImage(name);
    const details = await describeImage(store, record as NonNullable<typeof record>);
    const reads = new Map<string, number>();
    const run: UnpackRunner = (job) => {
      reads.set(job.blobPath, (reads.get(job.blobPath) ?? 0) + 1);
      return runUnpackJob(job);
    };
    const snapshots = createSnapshotStore(root);
    const snapshotter = await createSnapshotter(
      { store, snapshots, now: () => new Date(), concurrency: 2, run },
      details.config,
      { maxLayerBytes: 1 << 30, maxImageBytes: 1 << 30, reserveBytes: 0 },
    );
    const layers = details.manifest.layers as Descriptor[];
    const readsOf = () => layers.map((l) => reads.get(store.blobPath(l.digest)) ?? 0);
    return { snapshotter, layers, readsOf };
  };

  it('each layer blob is read once; a layer with a hardlink into a lower one is read a second time', async () => {
    const dir = join(work, 'read-once');
    const plain = await storeImage(join(dir, 'plain'), [
      [{ name: 'bin/tool', body: 'the tool', mode: 0o755 }],
      [{ name: 'bin/other', body: 'another tool', mode: 0o755 }],
      [
        { name: 'bin/new', body: 'x' },
        { name: 'bin/third', type: 'link', linkname: 'bin/new' },
      ],
    ]);
    const a = await countingSnapshotter(join(dir, 'plain'), plain);
    await Promise.all(a.layers.map((l, i) => a.snapshotter.layer(i, l)));
    expect(a.readsOf()).toEqual([1, 1, 1]);

    const linked = await storeImage(join(dir, 'linked'), [
      [{ name: 'bin/tool', body: 'the tool', mode: 0o755 }],
      [{ name: 'bin/alias', type: 'link', linkname: 'bin/tool' }],
    ]);
    const b = await countingSnapshotter(join(dir, 'linked'), linked);
    await Promise.all(b.layers.map((l, i) => b.snapshotter.layer(i, l)));
    expect(b.readsOf()).toEqual([1, 2]);
  });

  it('never copies up a file a layer above deleted: whiteout, opaque directory, deleted parent, same layer', async () => {
    const secret = { name: 'sec/secret', body: 'TOPSECRET' };
    const back = { name: 'back', type: 'link' as const, linkname: 'sec/secret' };
    const cases: Array<[string, Array<Array<Record<string, unknown>>>]> = [
      ['an opaque directory above', [[secret], [{ name: 'sec/.wh..wh..opq', body: '' }], [back]]],
      ['a whiteout', [[secret], [{ name: 'sec/.wh.secret', body: '' }], [back]]],
      ['its directory whited out', [[secret], [{ name: '.wh.sec', body: '' }], [back]]],
      [
        'its directory replaced by a file',
        [
          [secret],
          [
            { name: '.wh.sec', body: '' },
            { name: 'sec', body: 'f' },
          ],
          [back],
        ],
      ],
      ['a whiteout in the same layer', [[secret], [{ name: 'sec/.wh.secret', body: '' }, back]]],
      ['an opaque marker in the same layer', [[secret], [{ name: 'sec/.wh..wh..opq', body: '' }, back]]],
      [
        'a lower symlink on the way',
        [
          [secret, { name: 'app', type: 'symlink', linkname: '/sec' }],
          [{ name: 'sec/.wh.secret', body: '' }],
          [{ name: 'x', type: 'link', linkname: 'app/secret' }],
        ],
      ],
    ];
    for (const [i, [what, layers]] of cases.entries()) {
      const root = join(work, `resurrect-${i}`);
      const name = await storeImage(root, layers as Parameters<typeof storeImage>[1]);
      const { snapshotter, details } = await snapshotterOf(root, name);
      const all = (details.manifest.layers as Descriptor[]).map((l, j) => snapshotter.layer(j, l));
      const settled = await Promise.allSettled(all);
      const failed = settled
        .filter((r) => r.status === 'rejected')
        .map((r) => (r as PromiseRejectedResult).reason);
      expect(failed.map((e) => `${what}: ${(e as Error).message}`)).toEqual([
        expect.stringMatching(
          new RegExp(
            // A lower file on the way is no directory, as native form says it (lower-view.ts).
            `^${what}: .*: entry (back: a hardlink to sec/secret, which does not exist|x: a hardlink to app/secret, which does not exist|(back|x): /sec is not a directory)$`,
          ),
        ),
      ]);
    }
    // The whiteout after the hardlink in the same layer: the link keeps the file it was made to;
    // the name the layer deleted stays deleted (a whiteout, as the native form has it).
    const root = join(work, 'whiteout-after-link');
    const name = await storeImage(root, [[secret], [back, { name: 'sec/.wh.secret', body: '' }]]);
    const { snapshotter, snapshots, details } = await snapshotterOf(root, name);
    await Promise.all((details.manifest.layers as Descriptor[]).map((l, j) => snapshotter.layer(j, l)));
    const upper = snapshots.fsPath(snapshotter.result().chainIds[1] as Digest);
    expect(await readFile(join(upper, 'back'), 'utf8')).toBe('TOPSECRET');
    const hidden = await lstat(join(upper, 'sec/secret'));
    expect([hidden.isCharacterDevice(), hidden.rdev]).toEqual([true, 0]);
  });

  it("a directory a layer makes only as a parent keeps the lower directory's mode and owner (/tmp stays 1777)", async () => {
    const root = join(work, 'implicit-parents');
    const name = await storeImage(root, [
      [
        { name: 'tmp/', type: 'directory', mode: 0o1777 },
        { name: 'home/', type: 'directory', mode: 0o751 },
        { name: 'home/u/', type: 'directory', mode: 0o700, uid: 1000 },
        { name: 'opt/', type: 'directory', mode: 0o755 },
      ],
      [
        { name: 'tmp/seed', body: 's' },
        { name: 'home/u/.profile', body: 'p' },
        { name: 'opt/', type: 'directory', mode: 0o700 }, // an entry of its own: as the layer says
        { name: 'opt/x', body: 'x' },
        { name: 'new/deep/f', body: 'n' }, // nothing below: the default
      ],
    ]);
    const { snapshotter, snapshots, details } = await snapshotterOf(root, name);
    const [l0, l1] = details.manifest.layers as [Descriptor, Descriptor];
    await Promise.all([snapshotter.layer(1, l1), snapshotter.layer(0, l0)]); // the upper one first
    const upper = snapshots.fsPath(snapshotter.result().chainIds[1] as Digest);
    const meta = async (p: string) => {
      const st = await stat(join(upper, p));
      return [(st.mode & 0o7777).toString(8), st.uid];
    };
    expect(await meta('tmp')).toEqual(['1777', 0]);
    expect(await meta('home')).toEqual(['751', 0]);
    expect(await meta('home/u')).toEqual(['700', 1000]);
    expect(await meta('opt')).toEqual(['700', 0]);
    expect(await meta('new/deep')).toEqual(['755', 0]);
    expect(await readdir(join(upper, '..'))).not.toContain('implicit-dirs'); // the list is not published
  });

  it('copy the file up from the lower snapshot and link it, whatever order the layers unpack in', async () => {
    const dir = join(work, 'hardlink-lower');
    const root = join(dir, 'store');
    const name = await storeImage(root, [
      [{ name: 'bin/tool', body: 'the tool', mode: 0o755 }],
      [{ name: 'bin/alias', type: 'link', linkname: 'bin/tool' }],
    ]);
    const { snapshotter, snapshots, details } = await snapshotterOf(root, name);
    const [l0, l1] = details.manifest.layers as [Descriptor, Descriptor];
    // The upper layer first: it must wait for the lower one, not fail.
    await Promise.all([snapshotter.layer(1, l1), snapshotter.layer(0, l0)]);
    const ids = snapshotter.result().chainIds;
    const upper = snapshots.fsPath(ids[1] as Digest);
    expect(await readFile(join(upper, 'bin/alias'), 'utf8')).toBe('the tool');
    expect((await stat(join(upper, 'bin/alias'))).nlink).toBe(2); // linked to the copied-up bin/tool
    expect((await stat(join(upper, 'bin/tool'))).mode & 0o777).toBe(0o755);

    const native = join(dir, 'native');
    expect((await runBerth(['--root', root, 'image', 'unpack', name, native])).code).toBe(0);
    const mnt = join(dir, 'mnt');
    await mkdir(mnt);
    execFileSync('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${upper}:${snapshots.fsPath(ids[0] as Digest)}`,
      mnt,
    ]);
    try {
      expect(describeTree(mnt)).toEqual(describeTree(native));
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  it("a lower file copied up for a hardlink keeps its xattrs (a binary's file capability, user.*), as overlay's own copy-up does", async () => {
    const dir = join(work, 'hardlink-xattrs');
    const root = join(dir, 'store');
    // cap_net_raw in the effective and permitted sets (VFS_CAP_REVISION_2), as setcap writes it.
    const cap = '0100000200200000000000000000000000000000';
    const name = await storeImage(root, [
      [
        {
          name: 'bin/ping',
          body: 'a ping',
          mode: 0o755,
          pax: {
            'SCHILY.xattr.security.capability': Buffer.from(cap, 'hex').toString('latin1'),
            'SCHILY.xattr.user.origin': 'layer 0',
          },
        },
      ],
      // The link keeps the lower inode; bin/ping itself is then replaced by a file of this layer.
      [
        { name: 'bin/ping6', type: 'link', linkname: 'bin/ping' },
        { name: 'bin/ping', body: 'a new ping', mode: 0o755 },
      ],
    ]);
    const { snapshotter, snapshots, details } = await snapshotterOf(root, name);
    const [l0, l1] = details.manifest.layers as [Descriptor, Descriptor];
    await Promise.all([snapshotter.layer(0, l0), snapshotter.layer(1, l1)]);
    const ids = snapshotter.result().chainIds;
    const capOf = (file: string) => {
      try {
        return execFileSync('getfattr', ['-h', '--only-values', '-n', 'security.capability', file], {
          stdio: ['ignore', 'pipe', 'ignore'],
        }).toString('hex');
      } catch {
        return undefined;
      }
    };
    const xattrs = (file: string) => [capOf(file), xattrOf(file, 'user.origin')];
    const want = [cap, 'layer 0'];
    const none = [undefined, undefined];
    const upper = snapshots.fsPath(ids[1] as Digest);
    expect(xattrs(join(upper, 'bin/ping6'))).toEqual(want);
    expect(await readFile(join(upper, 'bin/ping6'), 'utf8')).toBe('a ping');
    // What a container sees, and what `image unpack` writes, are the same file.
    const mnt = join(dir, 'mnt');
    await mkdir(mnt);
    execFileSync('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${upper}:${snapshots.fsPath(ids[0] as Digest)}`,
      mnt,
    ]);
    try {
      expect([xattrs(join(mnt, 'bin/ping')), xattrs(join(mnt, 'bin/ping6'))]).toEqual([none, want]);
    } finally {
      execFileSync('umount', [mnt]);
    }
    const native = join(dir, 'native');
    expect((await runBerth(['--root', root, 'image', 'unpack', name, native])).code).toBe(0);
    expect([xattrs(join(native, 'bin/ping')), xattrs(join(native, 'bin/ping6'))]).toEqual([none, want]);
  });

  it('a hardlink to a lower symlink or FIFO: that entry is copied up (as itself) and linked, as overlay does', async () => {
    const dir = join(work, 'hardlink-special');
    const root = join(dir, 'store');
    const name = await storeImage(root, [
      [
        { name: 'x/t', type: 'symlink', linkname: 'somewhere' },
        { name: 'x/f', type: 'fifo' },
      ],
      [
        { name: 'x/lt', type: 'link', linkname: 'x/t' },
        { name: 'x/lf', type: 'link', linkname: 'x/f' },
      ],
    ]);
    const { snapshotter, snapshots, details } = await snapshotterOf(root, name);
    const [l0, l1] = details.manifest.layers as [Descriptor, Descriptor];
    await Promise.all([snapshotter.layer(1, l1), snapshotter.layer(0, l0)]);
    const upper = snapshots.fsPath(snapshotter.result().chainIds[1] as Digest);
    const lt = await lstat(join(upper, 'x/lt'));
    expect([lt.isSymbolicLink(), lt.nlink, await readlink(join(upper, 'x/lt'))]).toEqual([
      true,
      2,
      'somewhere',
    ]);
    const lf = await lstat(join(upper, 'x/lf'));
    expect([lf.isFIFO(), lf.nlink]).toEqual([true, 2]);
    const native = join(dir, 'native');
    expect((await runBerth(['--root', root, 'image', 'unpack', name, native])).code).toBe(0);
    expect((await lstat(join(native, 'x/lf'))).isFIFO()).toBe(true);
  });
});
