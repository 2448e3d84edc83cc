// Layer encodings the specs allow, pulled from a real registry on loopback and unpacked: gzip of
// several members, zstd made of several frames (with skippable and empty frames, as zstd:chunked and
// seekable forms write), pre-POSIX directories named by a long name, PAX xattrs (only user.*
// applied, never trusted.*),
// every OCI and Docker v2.2 layer media type (foreign / non-distributable ones fetched from the
// registry, never from their `urls`), a layer read by its bytes when its label is wrong (as
// containerd reads it), and unknown media types refused by name. (Indexes of indexes:
// pull-nested-index.test.ts.)
import { execFileSync } from 'node:child_process';
import { lstat, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, gzipSync, zstdCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  type BuiltLayer,
  buildRawImage,
  gzipLayer,
  headerBlock,
  paxRecord,
  pushRawImage,
  sha256,
  type TarSpec,
  tarBytes,
} from '../helpers/tar-bytes.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['docker-registry', 'python3'], { root: true });

let registry: TestRegistry;
let work: string;
let n = 0;
beforeAll(async () => {
  if (skip) return;
  registry = await startRegistry({ foreignUrls: true });
  work = await mkdtemp(join(tmpdir(), 'berth-media-'));
}, 60_000);
afterAll(async () => {
  await registry?.stop();
  if (work) await removeTempRoot(work);
});

/** Pull `layers` as an image, then `image unpack` it; returns the pull's result and DEST. */
async function pullAndUnpack(layers: BuiltLayer[], options: { docker?: boolean } = {}) {
  const repo = `media/img-${++n}`;
  await pushRawImage(registry.url, repo, '1', buildRawImage(layers, options));
  const ref = `${registry.host}/${repo}:1`;
  const root = join(work, `store-${n}`);
  const pull = await runBerth(['--root', root, 'image', 'pull', ref]);
  const dest = join(work, `dest-${n}`);
  const unpack = pull.code === 0 ? await runBerth(['--root', root, 'image', 'unpack', ref, dest]) : pull;
  return { pull, unpack, dest, ref };
}

const ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
const SKIPPABLE = (payload: string) => {
  const body = Buffer.from(payload);
  const h = Buffer.alloc(8);
  h.writeUInt32LE(0x184d2a5e, 0);
  h.writeUInt32LE(body.length, 4);
  return Buffer.concat([h, body]);
};
const FILES: TarSpec[] = [
  { name: 'a', body: 'first file\n' },
  { name: 'b', body: 'b'.repeat(300_000) },
  { name: 'c', body: 'last file\n' },
];

/** zstd's own default, a content checksum (XXH64) after each frame's last block, which Node leaves out. */
const CHECKSUMS = { params: { [constants.ZSTD_c_checksumFlag]: 1 } };

/** Frames with checksums, the last frame's checksum (the stream's last byte) made wrong. */
const checksumFlipped = (blob = framed(2, (f) => f, CHECKSUMS).blob) => {
  const bad = Buffer.from(blob);
  bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
  return bad;
};

/** One frame of FILES whose header says it was made with dictionary 7 (which no layer comes with). */
const withDictionary = () => {
  const c = zstdCompressSync(tarBytes(FILES));
  const fhd = c[4] as number;
  const at = 5 + ((fhd >> 5) & 1 ? 0 : 1); // after the window descriptor, where the dictionary id goes
  return Buffer.concat([
    c.subarray(0, 4),
    Buffer.from([fhd | 1]),
    c.subarray(5, at),
    Buffer.from([7]),
    c.subarray(at),
  ]);
};

/** The tar of FILES cut into `parts` pieces, each its own zstd frame, with `between` spliced in. */
function framed(parts: number, around: (frames: Buffer[]) => Buffer[], options = {}): BuiltLayer {
  const raw = tarBytes(FILES);
  const cuts = Array.from({ length: parts }, (_, i) =>
    raw.subarray(Math.floor((raw.length * i) / parts), Math.floor((raw.length * (i + 1)) / parts)),
  );
  const blob = Buffer.concat(around(cuts.map((c) => zstdCompressSync(c, options))));
  return { blob, diffId: sha256(raw), mediaType: ZSTD };
}

describe.skipIf(skip)('zstd layers of several frames', () => {
  const empty = zstdCompressSync(Buffer.alloc(0));
  it.each([
    ['one frame', framed(1, (f) => f)],
    ['two frames', framed(2, (f) => f)],
    ['seven frames', framed(7, (f) => f)],
    ['a skippable frame first', framed(2, (f) => [SKIPPABLE('index at the front'), ...f])],
    [
      'skippable frames between and last',
      framed(3, ([a, b, c]) => [a!, SKIPPABLE('x'), b!, SKIPPABLE(''), c!, SKIPPABLE('toc')]),
    ],
    ['empty frames', framed(2, ([a, b]) => [empty, a!, empty, b!, empty])],
    ['frames with content checksums', framed(3, (f) => f, CHECKSUMS)],
  ])('%s unpack whole', async (_label, layer) => {
    const { pull, unpack, dest } = await pullAndUnpack([layer]);
    expect([pull.code, pull.stderr]).toEqual([0, '']);
    expect([unpack.code, unpack.stderr]).toEqual([0, '']);
    expect(await readFile(join(dest, 'a'), 'utf8')).toBe('first file\n');
    expect((await readFile(join(dest, 'b'), 'utf8')).length).toBe(300_000);
    expect(await readFile(join(dest, 'c'), 'utf8')).toBe('last file\n');
  });

  // gzip allows a stream of several members (pigz --independent, `cat a.gz b.gz`); a reader that stops
  // after the first member would unpack only part of the layer, or fail its diffID.
  it.each([2, 5])('gzip of %i members unpacks whole', async (parts) => {
    const raw = tarBytes(FILES);
    const cuts = Array.from({ length: parts }, (_, i) =>
      raw.subarray(Math.floor((raw.length * i) / parts), Math.floor((raw.length * (i + 1)) / parts)),
    );
    const layer = {
      blob: Buffer.concat(cuts.map((c) => gzipSync(c))),
      diffId: sha256(raw),
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    };
    const { pull, unpack, dest } = await pullAndUnpack([layer]);
    expect([pull.code, pull.stderr]).toEqual([0, '']);
    expect([unpack.code, unpack.stderr]).toEqual([0, '']);
    expect(await readFile(join(dest, 'a'), 'utf8')).toBe('first file\n');
    expect(await readFile(join(dest, 'b'), 'utf8')).toBe('b'.repeat(300_000));
    expect(await readFile(join(dest, 'c'), 'utf8')).toBe('last file\n');
  });

  it.each([
    [
      'a skippable frame longer than the stream',
      () =>
        Buffer.concat([
          SKIPPABLE('abc').subarray(0, 4),
          Buffer.from([0xff, 0xff, 0xff, 0x7f]),
          Buffer.from('short'),
        ]),
      'truncated skippable frame',
      undefined,
    ],
    // Bytes that are no compressed form are read as a tar (as containerd reads them), and are none.
    [
      'bytes that are no frame',
      () => Buffer.from('this is not zstd at all'),
      '',
      'tar: unexpected end of stream',
    ],
    [
      'a reserved block type',
      () => Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x07, 0x00, 0x00]),
      'reserved block type',
      undefined,
    ],
    // libzstd's own refusals were no words the unpack knew: ERR_UNPACK_FAILED, exit 1, internal.
    [
      'a content checksum that does not match',
      () => checksumFlipped(),
      "Restored data doesn't match checksum",
      undefined,
    ],
    ['a frame that needs a dictionary', () => withDictionary(), 'Dictionary mismatch', undefined],
  ])('%s is ERR_LAYER_CORRUPT, never a hang', async (_label, make, why, whole) => {
    const raw = tarBytes(FILES);
    const layer = { blob: make(), diffId: sha256(raw), mediaType: ZSTD };
    const { pull, ref } = await pullAndUnpack([layer]);
    expect(pull.stderr).toBe(
      `berth: ERR_LAYER_CORRUPT: layer ${sha256(layer.blob)} of ${ref}: malformed ${whole ?? `zstd stream: ${why}`}\n`,
    );
    expect(pull.code).toBe(6);
  });

  it('a frame cut short is ERR_LAYER_CORRUPT, naming the layer', async () => {
    const whole = framed(2, (f) => f);
    const layer = { ...whole, blob: whole.blob.subarray(0, whole.blob.length - 40) };
    const { pull, ref } = await pullAndUnpack([layer]);
    expect(pull.stderr).toMatch(
      new RegExp(
        `^berth: ERR_LAYER_CORRUPT: layer ${sha256(layer.blob)} of ${ref.replace(/[.]/g, '\\.')}: .*\\n$`,
      ),
    );
    expect(pull.code).toBe(6);
  });

  // A checksum libzstd refuses was ERR_UNPACK_FAILED (above), which is no sign of damage: a stored
  // blob damaged on disk was never found as such, and stayed, failing every unpack the same way.
  it('a stored zstd blob damaged in a content checksum is found damaged and taken out', async () => {
    const good = framed(2, (f) => f, CHECKSUMS);
    const bad = checksumFlipped(good.blob);
    const ok = await pullAndUnpack([good]);
    expect([ok.unpack.code, ok.unpack.stderr]).toEqual([0, '']);
    const root = join(work, `store-${n}`);
    const stored = join(root, 'content', 'blobs', 'sha256', sha256(good.blob).slice('sha256:'.length));
    await writeFile(stored, bad);
    const again = await runBerth(['--root', root, 'image', 'unpack', ok.ref, join(work, `dest-${n}-again`)]);
    expect(again.code).toBe(6);
    expect(again.stderr).toMatch(
      new RegExp(
        `^berth: ERR_BLOB_DAMAGED: layer ${sha256(good.blob)} of ${ok.ref.replace(/[.]/g, '\\.')}: the stored blob ${sha256(good.blob)} is damaged \\(its bytes now hash to ${sha256(bad)}\\)`,
      ),
    );
    expect(await stat(stored).catch(() => undefined)).toBeUndefined();
  });
});

describe.skipIf(skip)('sparse files, as GNU tar writes them', () => {
  // A 3 MiB file with two written regions and holes around them, archived by GNU tar itself.
  const sparseTar = (args: string[]) => {
    const dir = execFileSync('mktemp', ['-d', join(work, 'sparse-XXXXXX')], { encoding: 'utf8' }).trim();
    execFileSync('python3', [
      '-c',
      "import sys\nf=open(sys.argv[1],'wb')\nf.seek(4096); f.write(b'middle'*1000)\nf.seek(3<<20); f.write(b'end')",
      join(dir, 'sp'),
    ]);
    const raw = execFileSync('tar', ['-C', dir, '--sparse', ...args, '-cf', '-', 'sp'], {
      maxBuffer: 1 << 26,
    });
    return { raw, file: execFileSync('cat', [join(dir, 'sp')], { maxBuffer: 1 << 26 }) };
  };

  it.each(['0.0', '0.1', '1.0'])(
    'PAX format %s unpacks to the same bytes, its holes left holes',
    async (version) => {
      const { raw, file } = sparseTar(['--format=posix', `--sparse-version=${version}`]);
      const { pull, unpack, dest } = await pullAndUnpack([
        {
          blob: gzipSync(raw),
          diffId: sha256(raw),
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        },
      ]);
      expect([pull.code, pull.stderr, unpack.code, unpack.stderr]).toEqual([0, '', 0, '']);
      expect(await readdir(dest)).toEqual(['sp']);
      expect((await readFile(join(dest, 'sp'))).equals(file)).toBe(true);
      const blocks = Number(execFileSync('stat', ['-c', '%b', join(dest, 'sp')], { encoding: 'utf8' }));
      expect(blocks * 512).toBeLessThan(file.length / 2);
    },
  );

  it.each([
    ['8 PiB', String(2 ** 53 - 1)],
    ['65 GiB', String(65 * 2 ** 30)],
  ])(
    'a sparse file declaring %s of holes is held to unpack.maxLayerBytes (containerd would write it all): ERR_LAYER_TOO_LARGE naming it',
    async (_n, size) => {
      const { pull } = await pullAndUnpack([
        gzipLayer([
          {
            name: 'GNUSparseFile.0/huge',
            body: '0\n'.padEnd(512, '\0'),
            pax: {
              'GNU.sparse.major': '1',
              'GNU.sparse.minor': '0',
              'GNU.sparse.name': 'huge',
              'GNU.sparse.realsize': size,
            },
          },
        ]),
      ]);
      expect(pull.stderr).toMatch(
        new RegExp(
          `^berth: ERR_LAYER_TOO_LARGE: layer sha256:\\w+ of .*: entry huge: a file of ${size} bytes \\(holes included\\) takes the layer past its limit of ${64 * 2 ** 30} bytes`,
        ),
      );
      expect(pull.code).toBe(7);
    },
  );

  it("the old GNU 'S' form is refused by name, as containerd refuses it", async () => {
    const { raw } = sparseTar(['--format=gnu']);
    const { pull } = await pullAndUnpack([
      { blob: gzipSync(raw), diffId: sha256(raw), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
    ]);
    expect(pull.stderr).toMatch(
      /^berth: ERR_LAYER_UNSUPPORTED: layer sha256:\w+ of .*: sparse file sp: old GNU sparse/,
    );
    expect(pull.code).toBe(2);
  });
});

describe.skipIf(skip)('pre-POSIX entries (type flag NUL)', () => {
  // Go's reader (containerd's, Docker's) takes a NUL-type entry whose name ends in '/' as a
  // directory, its name being the full one: a GNU long name's or a PAX path's, not the header's
  // first 100 bytes. Read as a file, the directory's own entries could not go in it.
  it('one whose long name (GNU or PAX) ends in a slash is a directory, its entries inside it', async () => {
    const gnuDir = `${'g'.repeat(120)}/`;
    const paxDir = `${'p'.repeat(120)}/`;
    const block = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
    const longName = Buffer.from(`${gnuDir}\0`);
    const pax = paxRecord('path', paxDir);
    const raw = Buffer.concat([
      headerBlock({ name: Buffer.from('././@LongLink'), typeflag: 'L', size: longName.length }),
      block(longName),
      headerBlock({ name: Buffer.from(gnuDir.slice(0, 100)), typeflag: '\0', size: 0, mode: 0o750 }),
      headerBlock({ name: Buffer.from('PaxHeader'), typeflag: 'x', size: pax.length }),
      block(pax),
      headerBlock({ name: Buffer.from(paxDir.slice(0, 100)), typeflag: '\0', size: 0, mode: 0o750 }),
      tarBytes([
        { name: `${gnuDir}in-gnu`, body: 'g' },
        { name: `${paxDir}in-pax`, body: 'p' },
      ]),
    ]);
    const { unpack, dest } = await pullAndUnpack([
      { blob: gzipSync(raw), diffId: sha256(raw), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
    ]);
    expect([unpack.code, unpack.stderr]).toEqual([0, '']);
    for (const [dir, file, body] of [
      [gnuDir, 'in-gnu', 'g'],
      [paxDir, 'in-pax', 'p'],
    ] as const) {
      const st = await lstat(join(dest, dir));
      expect([st.isDirectory(), (st.mode & 0o777).toString(8)]).toEqual([true, '750']);
      expect(await readFile(join(dest, dir, file), 'utf8')).toBe(body);
    }
  });
});

describe.skipIf(skip)('xattrs from PAX records', () => {
  // Only user.* and security.capability are applied; a layer's trusted.* (overlayfs reads
  // trusted.overlay.opaque in a snapshot: it would hide lower layers), security.selinux and system.*
  // never reach a snapshot or DEST.
  it('only user.* reaches the snapshot and DEST; trusted.*, security.selinux and system.* never do', async () => {
    const hostile = {
      'user.keep': 'kept',
      'trusted.overlay.opaque': 'y',
      'trusted.berth.evil': 'x',
      'security.selinux': 'system_u:object_r:etc_t:s0',
      'system.berth': 'x',
    };
    const layer = gzipLayer([
      { name: 'd/', type: 'directory', mode: 0o755, xattrs: hostile },
      { name: 'd/f', body: 'file\n', xattrs: hostile },
    ]);
    const { pull, unpack, dest } = await pullAndUnpack([
      { ...layer, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
    ]);
    expect([pull.code, pull.stderr, unpack.code, unpack.stderr]).toEqual([0, '', 0, '']);
    const names = (path: string) =>
      execFileSync('getfattr', ['--absolute-names', '-m', '-', path], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'));
    const snapshots = join(work, `store-${n}`, 'snapshots');
    const snapshot = (await readdir(snapshots)).filter((d) => /^[a-f0-9]{64}$/.test(d));
    expect(snapshot).toHaveLength(1);
    const fs = join(snapshots, snapshot[0] as string, 'fs');
    expect([
      names(join(fs, 'd')),
      names(join(fs, 'd/f')),
      names(join(dest, 'd')),
      names(join(dest, 'd/f')),
    ]).toEqual([['user.keep'], ['user.keep'], ['user.keep'], ['user.keep']]);
  });

  // The kernel takes user.* only on regular files and directories (xattr(7)); containerd skips
  // such an xattr on anything else with a warning, and so the pull must not fail on it.
  it('a user.* xattr on a fifo or a device node is skipped, not a failed pull', async () => {
    const xattrs = { 'user.note': 'x' };
    const layer = gzipLayer([
      { name: 'p', type: 'fifo', xattrs },
      { name: 'c', type: 'char', devmajor: 1, devminor: 3, xattrs },
      { name: 'f', body: 'file\n', xattrs },
    ]);
    const { pull, unpack, dest } = await pullAndUnpack([layer]);
    expect([pull.code, pull.stderr, unpack.code, unpack.stderr]).toEqual([0, '', 0, '']);
    const note = (path: string) =>
      execFileSync('getfattr', ['--absolute-names', '-n', 'user.note', '--only-values', path], {
        encoding: 'utf8',
      });
    expect(note(join(dest, 'f'))).toBe('x');
    expect((await lstat(join(dest, 'p'))).isFIFO()).toBe(true);
    expect((await lstat(join(dest, 'c'))).isCharacterDevice()).toBe(true);
  });
});

describe.skipIf(skip)('a security.capability the kernel refuses', () => {
  // Malformed bytes (no vfs_cap_data of any revision): setxattr is EINVAL. containerd fails the
  // layer too (it skips only ENOTSUP); here it is one coded line naming the layer and the entry.
  // A revision 2 header of the right size but with a bit the kernel knows no meaning of (only the
  // effective flag, bit 0, may stand beside the revision): setxattr is EINVAL just the same.
  const strayBit = Buffer.alloc(20);
  strayBit.writeUInt32LE(0x0200_0004, 0);
  it.each([
    ['no header at all', Buffer.from('abc')],
    ['revision 2 with a stray flag bit', strayBit],
  ])('is ERR_LAYER_UNSUPPORTED naming the layer digest and the entry: %s', async (_what, value) => {
    const layer = gzipLayer([
      { name: 'bin/', type: 'directory', mode: 0o755 },
      { name: 'bin/ping', body: 'x', mode: 0o755, xattrs: { 'security.capability': value } },
    ]);
    const digest = sha256(layer.blob);
    const { pull, ref } = await pullAndUnpack([layer]);
    expect([pull.code, pull.stderr]).toEqual([
      2,
      `berth: ERR_LAYER_UNSUPPORTED: layer ${digest} of ${ref}: entry bin/ping: security.capability of ${value.length} bytes is no file capability the kernel takes\n`,
    ]);
  });
});

describe.skipIf(skip)('every layer media type of the OCI image-spec and Docker v2.2', () => {
  const plain = (entries: TarSpec[], mediaType: string): BuiltLayer => {
    const raw = tarBytes(entries);
    return { blob: raw, diffId: sha256(raw), mediaType };
  };
  const zstd = (entries: TarSpec[], mediaType: string): BuiltLayer => {
    const raw = tarBytes(entries);
    return { blob: zstdCompressSync(raw), diffId: sha256(raw), mediaType };
  };
  const gz = (entries: TarSpec[], mediaType: string): BuiltLayer => ({ ...gzipLayer(entries), mediaType });
  // Where foreign layers say they live: nothing listens there; the registry has them.
  const nowhere = ['http://127.0.0.1:9/never-fetched'];

  it('OCI: tar, tar+gzip, tar+zstd and the three non-distributable forms', async () => {
    const t = 'application/vnd.oci.image.layer';
    const { pull, unpack, dest } = await pullAndUnpack([
      plain([{ name: '1', body: 'tar' }], `${t}.v1.tar`),
      gz([{ name: '2', body: 'gzip' }], `${t}.v1.tar+gzip`),
      zstd([{ name: '3', body: 'zstd' }], `${t}.v1.tar+zstd`),
      { ...plain([{ name: '4', body: 'nd tar' }], `${t}.nondistributable.v1.tar`), urls: nowhere },
      { ...gz([{ name: '5', body: 'nd gzip' }], `${t}.nondistributable.v1.tar+gzip`), urls: nowhere },
      { ...zstd([{ name: '6', body: 'nd zstd' }], `${t}.nondistributable.v1.tar+zstd`), urls: nowhere },
    ]);
    expect([pull.code, pull.stderr]).toEqual([0, '']);
    expect([unpack.code, unpack.stderr]).toEqual([0, '']);
    const got = await Promise.all(['1', '2', '3', '4', '5', '6'].map((f) => readFile(join(dest, f), 'utf8')));
    expect(got).toEqual(['tar', 'gzip', 'zstd', 'nd tar', 'nd gzip', 'nd zstd']);
  });

  it('Docker: diff.tar, diff.tar.gzip, diff.tar.zstd and the foreign forms', async () => {
    const t = 'application/vnd.docker.image.rootfs';
    const { pull, unpack, dest } = await pullAndUnpack(
      [
        plain([{ name: '1', body: 'tar' }], `${t}.diff.tar`),
        gz([{ name: '2', body: 'gzip' }], `${t}.diff.tar.gzip`),
        zstd([{ name: '3', body: 'zstd' }], `${t}.diff.tar.zstd`),
        { ...gz([{ name: '4', body: 'foreign gzip' }], `${t}.foreign.diff.tar.gzip`), urls: nowhere },
        { ...plain([{ name: '5', body: 'foreign tar' }], `${t}.foreign.diff.tar`), urls: nowhere },
      ],
      { docker: true },
    );
    expect([pull.code, pull.stderr]).toEqual([0, '']);
    expect([unpack.code, unpack.stderr]).toEqual([0, '']);
    const got = await Promise.all(['1', '2', '3', '4', '5'].map((f) => readFile(join(dest, f), 'utf8')));
    expect(got).toEqual(['tar', 'gzip', 'zstd', 'foreign gzip', 'foreign tar']);
  });

  it('a layer whose bytes are not in the form its media type says is read by its bytes, as containerd does', async () => {
    // containerd (and Docker) tell gzip, zstd and plain tar apart by their first bytes: a plain tar
    // labelled +gzip, a gzip labelled plain, a zstd labelled +gzip all unpack; the diffID still decides.
    const t = 'application/vnd.oci.image.layer.v1';
    const { pull, unpack, dest } = await pullAndUnpack([
      plain([{ name: '1', body: 'plain as gzip' }], `${t}.tar+gzip`),
      { ...gz([{ name: '2', body: 'gzip as plain' }], `${t}.tar`) },
      zstd([{ name: '3', body: 'zstd as gzip' }], `${t}.tar+gzip`),
      gz([{ name: '4', body: 'gzip as zstd' }], `${t}.tar+zstd`),
      plain([{ name: '5', body: 'plain as zstd' }], `${t}.tar+zstd`),
    ]);
    expect([pull.code, pull.stderr]).toEqual([0, '']);
    expect([unpack.code, unpack.stderr]).toEqual([0, '']);
    const got = await Promise.all(['1', '2', '3', '4', '5'].map((f) => readFile(join(dest, f), 'utf8')));
    expect(got).toEqual(['plain as gzip', 'gzip as plain', 'zstd as gzip', 'gzip as zstd', 'plain as zstd']);
  });

  // bzip2 and xz are no layer form of the OCI image-spec or Docker v2.2 (containerd reads them as a
  // tar and fails on its first header); a gzip followed by other bytes is corrupt, as in Go. Each
  // line says what the bytes are, not only that the tar ended early.
  it.each([
    [
      'bzip2',
      (raw: Buffer) => execFileSync('bzip2', ['-c'], { input: raw }),
      'ERR_LAYER_UNSUPPORTED',
      2,
      'the layer is bzip2-compressed, which is no layer form (tar, gzip or zstd)',
    ],
    [
      'xz',
      (raw: Buffer) => execFileSync('xz', ['-c'], { input: raw }),
      'ERR_LAYER_UNSUPPORTED',
      2,
      'the layer is xz-compressed, which is no layer form (tar, gzip or zstd)',
    ],
    [
      'gzip then other bytes',
      (raw: Buffer) => Buffer.concat([gzipSync(raw), Buffer.from('trailing bytes')]),
      'ERR_LAYER_CORRUPT',
      6,
      'malformed gzip stream: incorrect header check',
    ],
  ] as Array<[string, (raw: Buffer) => Buffer, string, number, string]>)(
    '%s: one line saying so',
    async (_label, make, code, exit, why) => {
      const raw = tarBytes(FILES);
      const layer = {
        blob: make(raw),
        diffId: sha256(raw),
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      };
      const { pull, ref } = await pullAndUnpack([layer]);
      expect(pull.stderr).toBe(`berth: ${code}: layer ${sha256(layer.blob)} of ${ref}: ${why}\n`);
      expect(pull.code).toBe(exit);
    },
  );

  it('a layer of 0 bytes labelled +gzip is an empty layer, as in containerd', async () => {
    const layer: BuiltLayer = {
      blob: Buffer.alloc(0),
      diffId: sha256(Buffer.alloc(0)),
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    };
    const { pull, unpack } = await pullAndUnpack([layer, gzipLayer([{ name: 'after', body: 'a' }])]);
    expect([pull.code, pull.stderr, unpack.code, unpack.stderr]).toEqual([0, '', 0, '']);
  });

  it('layers of nothing (0 bytes, one or two zero blocks, a 10 KiB record of zeros) in tar, gzip and zstd, under every label, are empty layers, as Go reads them', async () => {
    // Go's reader (containerd, Docker, umoci) ends an archive at EOF before a header, after one zero
    // block or after two; gzip and zstd of such bytes are the same tar. Each under each OCI label.
    const t = 'application/vnd.oci.image.layer.v1';
    const layers: BuiltLayer[] = [];
    for (const raw of [0, 512, 1024, 10240].map((size) => Buffer.alloc(size)))
      for (const blob of [raw, gzipSync(raw), zstdCompressSync(raw)])
        for (const label of ['tar', 'tar+gzip', 'tar+zstd'])
          layers.push({ blob, diffId: sha256(raw), mediaType: `${t}.${label}` });
    const { pull, unpack, dest } = await pullAndUnpack([
      ...layers,
      gzipLayer([{ name: 'after', body: 'a' }]),
    ]);
    expect([pull.code, pull.stderr, unpack.code, unpack.stderr]).toEqual([0, '', 0, '']);
    expect(await readdir(dest)).toEqual(['after']);
  });

  it('an unknown layer media type is refused, named', async () => {
    const layer = plain([{ name: 'x', body: 'x' }], 'application/vnd.example.layer.v1.tar+lz4');
    const { pull, ref } = await pullAndUnpack([layer]);
    expect(pull.stderr).toBe(
      `berth: ERR_MEDIA_TYPE_UNSUPPORTED: ${ref}: layers[0] (${sha256(layer.blob)}) has unsupported media type "application/vnd.example.layer.v1.tar+lz4"\n`,
    );
    expect(pull.code).toBe(6);
  });
});
