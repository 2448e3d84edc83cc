// Bounds that hold while a layer is written, not after: `unpack.maxImageBytes` stops an image whose
// layers add up past it as the bytes go by (on a small file system, before the disk fills), and
// xattrs (global PAX records apply to every entry that follows) are bounded per layer, on every path,
// and a layer of empty files stops at the inode reserve instead of taking every inode.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statfsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildRawImage, gzipLayer, pushRawImage, sha256, type TarSpec } from '../helpers/tar-bytes.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['docker-registry', 'python3', 'mount'], { root: true });

let registry: TestRegistry;
let work: string;
beforeAll(async () => {
  if (skip) return;
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'berth-bounds-'));
}, 60_000);
afterAll(async () => {
  await registry?.stop();
  if (work) await removeTempRoot(work);
});

const MiB = 1 << 20;

/** `image pull` (pull, pull-native), or for `unpack` a pull without unpacking, then `image unpack` to `dest`. */
async function pullBy(path: string, base: string[], ref: string, dest: string) {
  if (path !== 'unpack') return runBerth([...base, 'image', 'pull', ref]);
  const pulled = await runBerth([...base, 'image', 'pull', '--no-unpack', ref]);
  expect([pulled.code, pulled.stderr]).toEqual([0, '']);
  return runBerth([...base, 'image', 'unpack', ref, dest]);
}

describe.skipIf(skip)('unpack.maxImageBytes is enforced while layers are written', () => {
  it.each(['pull', 'pull-native', 'unpack'])(
    'via %s, on a file system smaller than the image',
    async (path) => {
      // Two layers of 12 MiB on a 20 MiB tmpfs, with a bound of 16 MiB: checked only at the end,
      // the disk fills first (ERR_NO_SPACE); checked while writing, the bound stops it.
      const image = buildRawImage([
        gzipLayer([{ name: 'one', body: Buffer.alloc(12 * MiB) }]),
        gzipLayer([{ name: 'two', body: Buffer.alloc(12 * MiB, 1) }]),
      ]);
      const repo = `bounds/image-${path}`;
      await pushRawImage(registry.url, repo, '1', image);
      const ref = `${registry.host}/${repo}:1`;
      const dir = join(work, `image-${path}`);
      await mkdir(dir);
      // (The native form also copies the first layer's tree: room for that.)
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${path === 'pull-native' ? 48 : 20}m`, 'tmpfs', dir]);
      try {
        const native = path === 'pull-native' ? 'snapshotter: native, ' : '';
        await writeFile(
          join(dir, 'config.yaml'),
          `unpack: { ${native}maxImageBytes: ${16 * MiB}, reserveBytes: 0 }\n`,
        );
        const base = ['--root', join(dir, 'store'), '--config', join(dir, 'config.yaml')];
        const res = await pullBy(path, base, ref, join(dir, 'dest'));
        // A pull into overlay snapshots unpacks its layers side by side: the one whose bytes cross the bound is named,
        // which of the two that is depends on the host's timing.
        const crossing = image.layers.map((l) => sha256(l.blob as Buffer));
        const named =
          /^berth: ERR_IMAGE_TOO_LARGE: layer (sha256:[0-9a-f]{64}) of /.exec(res.stderr)?.[1] ?? res.stderr;
        expect(path === 'pull' ? crossing : [crossing[1]]).toContain(named);
        expect(res.stderr).toBe(
          `berth: ERR_IMAGE_TOO_LARGE: layer ${named} of ${ref}: the image's uncompressed size exceeds unpack.maxImageBytes ${16 * MiB} (raise unpack.maxImageBytes in the host config if the image is trusted)\n`,
        );
        expect(res.code).toBe(7);
        const snapshots = await readdir(
          join(dir, 'store/snapshots', path === 'pull-native' ? 'native' : ''),
        ).catch(() => []);
        expect(snapshots.filter((n) => n.startsWith('.tmp-'))).toEqual([]);
      } finally {
        execFileSync('umount', [dir]);
      }
    },
  );
});

describe.skipIf(skip)('xattrs are bounded per layer', () => {
  it.each(['pull', 'unpack'])('a large PAX xattr on each of many files is refused, via %s', async (path) => {
    const entries: TarSpec[] = [];
    const xattrs = { 'user.big': Buffer.alloc(60_000, 0x61) };
    for (let i = 0; i < 300; i++) entries.push({ name: `f${i}`, body: 'x', xattrs });
    const image = buildRawImage([gzipLayer(entries)]);
    const repo = `bounds/xattr-${path}`;
    await pushRawImage(registry.url, repo, '1', image);
    const ref = `${registry.host}/${repo}:1`;
    const base = ['--root', join(work, `xattr-${path}`)];
    const res = await pullBy(path, base, ref, join(work, `xattr-dest-${path}`));
    // Named at the entry that crossed the bound.
    expect(res.stderr).toMatch(
      new RegExp(
        `^berth: ERR_LAYER_TOO_LARGE: layer ${sha256(image.layers[0]?.blob as Buffer)} of ${ref.replace(/[.]/g, '\\.')}: entry f\\d+: the layer's xattrs add up to more than ${16 * MiB} bytes\n$`,
      ),
    );
    expect(res.code).toBe(7);
  });
});

describe.skipIf(skip)('error lines name the layer and the image, never temp paths', () => {
  it('a native snapshot whose parent copy fills the disk', async () => {
    const image = buildRawImage([
      gzipLayer([{ name: 'one', body: Buffer.alloc(12 * MiB) }]),
      gzipLayer([{ name: 'two', body: 'small' }]),
    ]);
    await pushRawImage(registry.url, 'bounds/copy', '1', image);
    const ref = `${registry.host}/bounds/copy:1`;
    const dir = join(work, 'copy');
    await mkdir(dir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', dir]);
    try {
      await writeFile(join(dir, 'config.yaml'), 'unpack: { snapshotter: native, reserveBytes: 0 }\n');
      const res = await runBerth([
        '--root',
        join(dir, 'store'),
        '--config',
        join(dir, 'config.yaml'),
        'image',
        'pull',
        ref,
      ]);
      const layer = sha256(image.layers[1]?.blob as Buffer);
      expect(res.stderr).toBe(
        `berth: ERR_SNAPSHOT_COPY: layer ${layer} of ${ref}: copying the parent snapshot: cp: error copying '/./one' to '/./one': No space left on device\n`,
      );
      expect(res.code).toBe(7);
    } finally {
      execFileSync('umount', [dir]);
    }
  });
});

describe.skipIf(skip)('unpack.maxLayerBytes and unpack.reserveBytes hold on the pull path too', () => {
  // `image unpack` is pinned in unpack.test.ts; a pull unpacks through ensure-snapshots instead.
  const pullWith = async (name: string, config: string) => {
    const image = buildRawImage([gzipLayer([{ name: 'zeros', body: Buffer.alloc(4 * MiB) }])]);
    await pushRawImage(registry.url, `bounds/${name}`, '1', image);
    const ref = `${registry.host}/bounds/${name}:1`;
    const dir = join(work, name);
    await mkdir(dir);
    await writeFile(join(dir, 'config.yaml'), config);
    const res = await runBerth([
      '--root',
      join(dir, 'store'),
      '--config',
      join(dir, 'config.yaml'),
      'image',
      'pull',
      ref,
    ]);
    const snapshots = (await readdir(join(dir, 'store/snapshots')).catch(() => [])).filter(
      (n) => n !== 'native',
    );
    const names = JSON.parse(
      (await runBerth(['--root', join(dir, 'store'), 'image', 'ls', '-o', 'json'])).stdout,
    ) as unknown[];
    return { res, ref, layer: sha256(image.layers[0]?.blob as Buffer), snapshots, names };
  };

  it('a layer past maxLayerBytes: one line, exit 7, no snapshot and no image named', async () => {
    const { res, ref, layer, snapshots, names } = await pullWith(
      'layer-cap',
      `unpack: { maxLayerBytes: ${MiB} }\n`,
    );
    expect(res.stderr).toBe(
      `berth: ERR_LAYER_TOO_LARGE: layer ${layer} of ${ref}: uncompressed size exceeds ${MiB} bytes (raise unpack.maxLayerBytes in the host config if the image is trusted)\n`,
    );
    expect(res.code).toBe(7);
    expect(snapshots).toEqual([]);
    expect(names).toEqual([]);
  });

  it('free space below reserveBytes: one line, exit 7, no snapshot and no image named', async () => {
    const { res, ref, layer, snapshots, names } = await pullWith(
      'reserve',
      `unpack: { reserveBytes: ${2 ** 50} }\n`,
    );
    expect(res.stderr).toMatch(
      new RegExp(
        `^berth: ERR_NO_SPACE: layer ${layer} of ${ref.replace(/[.]/g, '\\.')}: only \\d+ bytes free on the destination, below the reserve of ${2 ** 50} \\(free space, or lower unpack\\.reserveBytes in the host config\\)\n$`,
      ),
    );
    expect(res.code).toBe(7);
    expect(snapshots).toEqual([]);
    expect(names).toEqual([]);
  });
});

describe.skipIf(skip)('a disk that fills while a blob downloads', () => {
  it('is ERR_NO_SPACE naming the blob, exit 7, and leaves no partial blob', async () => {
    // 8 MiB that gzip cannot shrink, into a 6 MiB tmpfs, with no reserve to stop it earlier.
    const image = buildRawImage([gzipLayer([{ name: 'noise', body: randomBytes(8 * MiB) }])]);
    await pushRawImage(registry.url, 'bounds/full', '1', image);
    const ref = `${registry.host}/bounds/full:1`;
    const dir = join(work, 'full');
    await mkdir(dir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', dir]);
    try {
      await writeFile(join(dir, 'config.yaml'), 'unpack: { reserveBytes: 0 }\n');
      const base = ['--root', join(dir, 'store'), '--config', join(dir, 'config.yaml')];
      const res = await runBerth([...base, 'image', 'pull', '--no-unpack', ref]);
      const blob = sha256(image.layers[0]?.blob as Buffer);
      expect([res.code, res.stderr]).toEqual([
        7,
        `berth: ERR_NO_SPACE: blob ${blob} of ${registry.host}/bounds/full: the file system is full (free space in --root; what arrived is discarded)\n`,
      ]);
      const kept = await readdir(join(dir, 'store'), { recursive: true });
      expect(kept.filter((n) => n.includes(blob.slice('sha256:'.length)))).toEqual([]);
      expect((await runBerth([...base, 'image', 'ls', '-q'])).stdout).toBe('');
    } finally {
      execFileSync('umount', [dir]);
    }
  });
});

describe.skipIf(skip)('a layer of empty files on a file system short of inodes', () => {
  // 6000 empty files: 3 MiB of tar, 40 KiB of gzip, no space to speak of, but more inodes than the
  // file system of --root has. Before: every inode was taken (other writers there got ENOSPC) until
  // the unpack failed with "the file system is full".
  it.each(['pull', 'pull-native', 'unpack'])(
    'stops at the reserve (one inode per 16 KiB of reserveBytes), naming the layer and the entry, via %s',
    async (path) => {
      const entries: TarSpec[] = Array.from({ length: 6000 }, (_, i) => ({ name: `f/${i}`, body: '' }));
      const image = buildRawImage([gzipLayer(entries)]);
      const repo = `bounds/inodes-${path}`;
      await pushRawImage(registry.url, repo, '1', image);
      const ref = `${registry.host}/${repo}:1`;
      const dir = join(work, `inodes-${path}`);
      await mkdir(dir);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,nr_inodes=4000', 'tmpfs', dir]);
      let lowest = Number.POSITIVE_INFINITY;
      const watch = setInterval(() => {
        lowest = Math.min(lowest, statfsSync(dir).ffree);
      }, 1);
      try {
        const reserve = 1000;
        const native = path === 'pull-native' ? 'snapshotter: native, ' : '';
        await writeFile(join(dir, 'config.yaml'), `unpack: { ${native}reserveBytes: ${reserve * 16384} }\n`);
        const base = ['--root', join(dir, 'store'), '--config', join(dir, 'config.yaml')];
        const res = await pullBy(path, base, ref, join(dir, 'dest'));
        clearInterval(watch);
        const layer = sha256(image.layers[0]?.blob as Buffer);
        expect(res.stderr).toMatch(
          new RegExp(
            `^berth: ERR_NO_SPACE: layer ${layer} of ${ref.replace(/[.]/g, '\\.')}: entry f/\\d+: only \\d+ inodes free on the destination, below the reserve of ${reserve} \\(one per 16 KiB of unpack\\.reserveBytes\\) \\(free inodes on the file system of --root, or lower unpack\\.reserveBytes in the host config\\)\n$`,
          ),
        );
        expect(res.code).toBe(7);
        // Never below the reserve, but for the few inodes the CLI makes besides the layer's files.
        expect(lowest).toBeGreaterThan(reserve - 50);
        // Nothing of the layer is left: no snapshot, no temp directory, no DEST.
        const snapshots = await readdir(join(dir, 'store/snapshots'), { recursive: true });
        expect(snapshots.filter((n) => n !== 'native')).toEqual([]);
        expect(await readdir(dir)).not.toContain('dest');
      } finally {
        clearInterval(watch);
        execFileSync('umount', [dir]);
      }
    },
    60_000,
  );
});
