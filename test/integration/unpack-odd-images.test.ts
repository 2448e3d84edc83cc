// Valid layers written by real tools in their less common forms, each unpacked by berth (a pull's
// snapshot and `image unpack`) into the tree `umoci unpack` makes of the same image (pushed to a
// registry on loopback, copied out by skopeo): a gzip header with an extra field, a file name and a
// comment; pigz's independent blocks; GNU tar's v7 and ustar formats; its sparse files in PAX
// forms 0.0, 0.1 and 1.0; Python's GNU format with long names and link targets; bsdtar's ustar and
// pax. And an image whose config lists more diff_ids than it has layers is refused in one line; one
// of no layers, as Docker and BuildKit push it (no diff_ids, layers null or absent), pulls.
import { execFile, execFileSync } from 'node:child_process';
import { link, mkdir, readdir, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { registryWorkspace } from '../helpers/registry-workspace.js';
import { type BuiltLayer, buildRawImage, OCI_GZIP, pushRawImage, sha256 } from '../helpers/tar-bytes.js';
import { describeTree } from '../helpers/tree.js';

const run = promisify(execFile);
const skip = missingPrereqs(['docker-registry', 'python3', 'skopeo', 'umoci', 'tar', 'bsdtar', 'pigz'], {
  root: true,
});

const ws = registryWorkspace('berth-odd-images-', skip);
/** A small tree on disk: files, a directory, a symlink, a hardlink, a long name, a sparse file. */
let tree: string;
beforeAll(async () => {
  if (skip) return;
  tree = join(ws.work, 'tree');
  await mkdir(join(tree, 'etc/deep'), { recursive: true });
  await writeFile(join(tree, 'etc/hostname'), 'odd\n');
  await writeFile(join(tree, 'etc/deep/data'), 'x'.repeat(70_000));
  await symlink('hostname', join(tree, 'etc/name-link'));
  await link(join(tree, 'etc/hostname'), join(tree, 'etc/hard'));
  await writeFile(join(tree, 'etc/deep', 'n'.repeat(80)), 'a long name\n');
  const sparse = join(tree, 'sparse');
  await writeFile(sparse, 'start');
  await truncate(sparse, 3 << 20);
  execFileSync('sh', ['-c', `printf middle | dd of=${sparse} bs=1 seek=1048576 conv=notrunc status=none`]);
  execFileSync('touch', [
    '-h',
    '-d',
    '2024-01-02T03:04:05Z',
    ...['etc/hostname', 'etc/deep/data', 'sparse'].map((f) => join(tree, f)),
  ]);
}, 60_000);

/** Tools' output of a few MiB (the sparse file, written whole where the format has no holes). */
const BIG = { maxBuffer: 64 << 20 };
const gnuTar = (...args: string[]) => execFileSync('tar', ['-C', tree, '-cf', '-', ...args, '.'], BIG);
const bsdTar = (format: string) =>
  execFileSync('bsdtar', ['-C', tree, '-cf', '-', `--format=${format}`, '.'], BIG);

/** A gzip member written by hand with FEXTRA, FNAME and FCOMMENT (RFC 1952), as some tools write it. */
function gzipWithHeaderFields(raw: Buffer): Buffer {
  const extra = Buffer.from('AB\x04\x00data', 'latin1'); // one subfield: id "AB", 4 bytes
  const xlen = Buffer.alloc(2);
  xlen.writeUInt16LE(extra.length);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(raw), 0);
  trailer.writeUInt32LE(raw.length >>> 0, 4);
  return Buffer.concat([
    Buffer.from([0x1f, 0x8b, 0x08, 0x04 | 0x08 | 0x10, 0, 0, 0, 0, 0, 3]),
    xlen,
    extra,
    Buffer.from('layer.tar\0comment: written by hand\0', 'latin1'),
    deflateRawSync(raw),
    trailer,
  ]);
}

const PYTHON_GNU = `import io, sys, tarfile
out = io.BytesIO()
with tarfile.open(fileobj=out, mode='w', format=tarfile.GNU_FORMAT) as t:
    t.add(sys.argv[1], arcname='.')
    ti = tarfile.TarInfo('l' * 150)
    ti.type = tarfile.SYMTYPE
    ti.linkname = 't' * 150
    t.addfile(ti)
sys.stdout.buffer.write(out.getvalue())
`;

const gz = (raw: Buffer, blob: Buffer = gzipSync(raw)): BuiltLayer => ({
  blob,
  diffId: sha256(raw),
  mediaType: OCI_GZIP,
});

const CASES: Array<[string, () => BuiltLayer]> = [
  [
    'gzip with an extra field, a file name and a comment',
    () => {
      const raw = gnuTar('--format=posix');
      return gz(raw, gzipWithHeaderFields(raw));
    },
  ],
  [
    'pigz with independent blocks',
    () => {
      const raw = gnuTar('--format=gnu');
      return gz(raw, execFileSync('pigz', ['-c', '-i', '-b', '32'], { input: raw, ...BIG }));
    },
  ],
  ['GNU tar --format=v7', () => gz(gnuTar('--format=v7'))],
  ['GNU tar --format=ustar', () => gz(gnuTar('--format=ustar'))],
  [
    'GNU tar --sparse, PAX sparse 0.0',
    () => gz(gnuTar('--format=posix', '--sparse', '--sparse-version=0.0')),
  ],
  [
    'GNU tar --sparse, PAX sparse 0.1',
    () => gz(gnuTar('--format=posix', '--sparse', '--sparse-version=0.1')),
  ],
  [
    'GNU tar --sparse, PAX sparse 1.0',
    () => gz(gnuTar('--format=posix', '--sparse', '--sparse-version=1.0')),
  ],
  [
    "Python's GNU format: long names and link targets",
    () => gz(execFileSync('python3', ['-c', PYTHON_GNU, tree], BIG)),
  ],
  ['bsdtar --format=ustar', () => gz(bsdTar('ustar'))],
  ['bsdtar --format=pax', () => gz(bsdTar('pax'))],
];

async function ok(args: string[]): Promise<void> {
  const res = await runBerth(args);
  expect([res.code, res.stderr]).toEqual([0, '']);
}

describe.skipIf(skip)('odd but valid layers unpack as umoci unpacks them', () => {
  let n = 0;
  it.each(CASES)(
    '%s',
    async (_label, make) => {
      const at = join(ws.work, `case-${++n}`);
      await mkdir(at);
      const layer = make();
      await pushRawImage(ws.registry.url, `odd/c${n}`, '1', buildRawImage([layer]));
      const ref = `${ws.registry.host}/odd/c${n}:1`;
      await run('skopeo', [
        'copy',
        '--quiet',
        '--src-tls-verify=false',
        `docker://${ref}`,
        `oci:${at}/oci:x`,
      ]);
      await run('umoci', ['unpack', '--image', `${at}/oci:x`, join(at, 'umoci')]);
      const theirs = describeTree(join(at, 'umoci/rootfs'));
      const root = join(at, 'store');
      await ok(['--root', root, 'image', 'pull', ref]);
      expect(describeTree(join(root, 'snapshots', layer.diffId.slice(7), 'fs'))).toEqual(theirs);
      await ok(['--root', root, 'image', 'unpack', ref, join(at, 'dest')]);
      expect(describeTree(join(at, 'dest'))).toEqual(theirs);
    },
    120_000,
  );

  it('a config with more diff_ids than the image has layers is refused in one line, exit 6', async () => {
    const layer = gz(gnuTar('--format=posix'));
    const image = buildRawImage([layer], {
      config: { rootfs: { type: 'layers', diff_ids: [layer.diffId, layer.diffId] } },
    });
    await pushRawImage(ws.registry.url, 'odd/diffids', '1', image);
    const ref = `${ws.registry.host}/odd/diffids:1`;
    const res = await runBerth(['--root', join(ws.work, 'diffids'), 'image', 'pull', ref]);
    expect([res.code, res.stderr]).toEqual([
      6,
      `berth: ERR_MANIFEST_INVALID: config ${sha256(image.config)} of ${ref}: has 2 diff_ids for 1 layers\n`,
    ]);
  });

  it('an image of no layers as Docker and BuildKit push it (no diff_ids; "layers" null or absent) pulls and unpacks empty', async () => {
    // docker build of FROM scratch with only CMD: moby's RootFS.DiffIDs is omitempty; Go writes
    // a nil layers list as null, and tianon/scratch:nolayers has none at all.
    const config = Buffer.from(
      JSON.stringify({
        os: 'linux',
        architecture: 'amd64',
        config: { Cmd: ['/app'] },
        rootfs: { type: 'layers' },
      }),
    );
    for (const [tag, layers] of [
      ['null', { layers: null }],
      ['absent', {}],
    ] as const) {
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: {
            mediaType: 'application/vnd.oci.image.config.v1+json',
            digest: sha256(config),
            size: config.length,
          },
          ...layers,
        }),
      );
      await pushRawImage(ws.registry.url, 'odd/nolayers', tag, { config, manifest, layers: [] });
      const ref = `${ws.registry.host}/odd/nolayers:${tag}`;
      const root = join(ws.work, `nolayers-${tag}`);
      const pulled = await runBerth(['--root', root, 'image', 'pull', ref]);
      expect([pulled.code, pulled.stderr]).toEqual([0, '']);
      const dest = join(root, 'out');
      const unpacked = await runBerth(['--root', root, 'image', 'unpack', ref, dest]);
      expect([unpacked.code, unpacked.stderr]).toEqual([0, '']);
      expect(await readdir(dest)).toEqual([]);
    }
  });
});
