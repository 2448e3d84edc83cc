// Tar headers the formats disagree on, written byte by byte, pulled from a real registry on
// loopback and unpacked: the tree must be the one Go's reader gives (containerd, Docker, umoci),
// never another that GNU tar or Python would give. A name given both as a GNU long name and as a
// PAX path is the GNU one (in either order); a star header's name prefix is 131 bytes; a global
// PAX header changes no entry (containerd and Docker skip it, umoci refuses it); number fields are
// trimmed of NULs at both ends, a PAX record's empty value keeps the header's field, and a GNU
// header whose times are no numbers holds the name prefix Go before 1.8 wrote there. An entry of a
// type Go hands on as its own ('7', GNU's 'D' and 'V', any other byte) is refused, as umoci refuses it.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  buildRawImage,
  gzipLayer,
  headerBlock,
  paxRecord,
  pushRawImage,
  sha256,
  tarBytes,
} from '../helpers/tar-bytes.js';
import { removeTempRoot } from '../helpers/temp-root.js';
import { describeTree, xattrOf } from '../helpers/tree.js';

const run = promisify(execFile);
const skip = missingPrereqs(['docker-registry', 'python3', 'skopeo', 'umoci', 'getfattr'], { root: true });

let registry: TestRegistry;
let work: string;
let n = 0;
beforeAll(async () => {
  if (skip) return;
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'berth-dialects-'));
}, 60_000);
afterAll(async () => {
  await registry?.stop();
  if (work) await removeTempRoot(work);
});

const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
const block = (name: string, typeflag: string, body = Buffer.alloc(0), linkname = '') =>
  Buffer.concat([
    headerBlock({ name: Buffer.from(name), typeflag, size: body.length, linkname: Buffer.from(linkname) }),
    pad(body),
  ]);
const gnuLong = (typeflag: 'L' | 'K', value: string) =>
  block('././@LongLink', typeflag, Buffer.from(`${value}\0`));
const pax = (typeflag: 'x' | 'g', records: Record<string, string>) =>
  block('PaxHeaders/x', typeflag, Buffer.concat(Object.entries(records).map(([k, v]) => paxRecord(k, v))));
/** A header with the ustar magic and star's "tar\0" trailer: Go reads a 131-byte prefix, not 155. */
function starFile(prefix: string, name: string, body: string): Buffer {
  const h = headerBlock({ name: Buffer.from(name), typeflag: '0', size: body.length });
  h.write(prefix, 345, 'latin1');
  // Its access and change times follow the prefix: numbers, or Go refuses the header.
  h.write('00000000000\0' + '00000000000\0', 476, 'latin1');
  h.write('tar\0', 508, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return Buffer.concat([h, pad(Buffer.from(body))]);
}

/** `h` with bytes written over some of its fields (offset, bytes), its checksum made right again. */
function patched(h: Buffer, fields: Array<[number, string]>): Buffer {
  const out = Buffer.from(h);
  for (const [off, bytes] of fields) out.write(bytes, off, 'latin1');
  out.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of out) sum += b;
  out.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return out;
}

/** Push a one-layer image of `tar`; pull it (a snapshot) and `image unpack` it with berth. */
async function pullBoth(tar: Buffer) {
  const at = join(work, `case-${++n}`);
  const image = buildRawImage([gzipLayer(tar)]);
  await pushRawImage(registry.url, `dialects/c${n}`, '1', image);
  const ref = `${registry.host}/dialects/c${n}:1`;
  const root = join(at, 'root');
  for (const args of [
    ['image', 'pull', ref],
    ['image', 'unpack', ref, join(at, 'dest')],
  ]) {
    const res = await runBerth(['--root', root, ...args]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  }
  const diffId = image.layers[0]?.diffId as string;
  expect(diffId).toBe(sha256(tar));
  return { at, ref, dest: join(at, 'dest'), snapshot: join(root, 'snapshots', diffId.slice(7), 'fs') };
}

/** The tree `umoci unpack` makes of `ref` (copied by skopeo into an OCI layout under `at`). */
async function umociTree(at: string, ref: string): Promise<string[]> {
  await run('skopeo', [
    'copy',
    '--quiet',
    '--src-tls-verify=false',
    `docker://${ref}`,
    `oci:${join(at, 'oci')}:x`,
  ]);
  await run('umoci', ['unpack', '--image', `${join(at, 'oci')}:x`, join(at, 'umoci')]);
  return describeTree(join(at, 'umoci/rootfs'));
}

describe.skipIf(skip)('tar headers read as Go reads them, pulled and unpacked', () => {
  it('a name or link target given both as a GNU long one and in PAX is the GNU one; a star prefix is 131 bytes: the tree umoci unpacks', async () => {
    const tar = Buffer.concat([
      gnuLong('L', 'gnu-first'),
      pax('x', { path: 'pax-second' }),
      block('short-1', '0', Buffer.from('one')),
      pax('x', { path: 'pax-first' }),
      gnuLong('L', 'gnu-second'),
      block('short-2', '0', Buffer.from('two')),
      pax('x', { linkpath: 'pax-target' }),
      gnuLong('K', 'gnu-target'),
      block('link', '2', Buffer.alloc(0), 'short'),
      starFile('p'.repeat(131), 'star', 'star'),
      Buffer.alloc(1024),
    ]);
    const { at, ref, dest, snapshot } = await pullBoth(tar);
    const theirs = await umociTree(at, ref);
    expect(theirs.join('\n')).toContain('gnu-target');
    expect(describeTree(dest)).toEqual(theirs);
    expect(describeTree(snapshot)).toEqual(theirs);
  });

  it('number fields starting with NULs, PAX records with empty values, a GNU header holding an old Go prefix: the tree umoci unpacks', async () => {
    // A size read as 0 would make the file's data the next header: an entry only berth had.
    const hidden = headerBlock({ name: Buffer.from('hidden'), typeflag: '0', size: 0 });
    const nulled = patched(headerBlock({ name: Buffer.from('f'), typeflag: '0', size: 512 }), [
      [100, '\0\x000755\0'],
      [124, '\0\0\0\0\0\0\x001000\0'],
    ]);
    const oldGo = patched(headerBlock({ name: Buffer.from('file'), typeflag: '0', size: 2 }), [
      [257, 'ustar  \0'],
      [345, 'old/go/prefix'],
    ]);
    const tar = Buffer.concat([
      nulled,
      hidden,
      pax('x', { path: '', mtime: '', size: '', uid: '' }),
      block('kept', '0', Buffer.from('ok')),
      pax('x', { linkpath: '' }),
      block('link', '2', Buffer.alloc(0), 'kept'),
      oldGo,
      pad(Buffer.from('go')),
      Buffer.alloc(1024),
    ]);
    const { at, ref, dest, snapshot } = await pullBoth(tar);
    const theirs = await umociTree(at, ref);
    expect(theirs.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([
      '/f 100755',
      '/kept 100644',
      '/link 120777',
      '/old 40755',
      '/old/go 40755',
      '/old/go/prefix 40755',
      '/old/go/prefix/file 100644',
    ]);
    expect(describeTree(dest)).toEqual(theirs);
    expect(describeTree(snapshot)).toEqual(theirs);
  });

  it('a global PAX header changes no entry, and what was read before it goes with it, as containerd skips it', async () => {
    const tar = Buffer.concat([
      pax('g', { path: 'every-name', uid: '4321', mtime: '5', 'SCHILY.xattr.user.global': 'yes' }),
      tarBytes([
        { name: 'a', body: 'A' },
        { name: 'b', body: 'B' },
      ]).subarray(0, -1024),
      gnuLong('L', 'dropped-with-the-global'),
      pax('g', { comment: 'as git archive writes' }),
      block('c', '0', Buffer.from('C')),
      Buffer.alloc(1024),
    ]);
    const { dest, snapshot } = await pullBoth(tar);
    for (const tree of [dest, snapshot]) {
      const lines = describeTree(tree);
      expect(lines.map((l) => l.split(' ')[0])).toEqual(['/a', '/b', '/c']);
      for (const line of lines) expect(line).toMatch(/^\/\w 100644 0:0 t1700000000 n1 /);
      for (const f of ['a', 'b', 'c']) expect(xattrOf(join(tree, f), 'user.global')).toBeUndefined();
    }
  });

  // Go's reader hands these on with their own type, and containerd and Docker ("unhandled tar header
  // type") and umoci ("unknown typeflag") refuse the layer. berth made a '7' a file and passed the
  // others over: the layer was a tree for berth and none for them.
  it.each([
    ['7', "'7'"],
    ['D', "'D'"],
    ['V', "'V'"],
    ['\x01', '\\x01'],
  ])(
    'an entry of type %j is refused by name, pulled or unpacked, as umoci refuses it',
    async (flag, shown) => {
      const at = join(work, `case-${++n}`);
      const tar = Buffer.concat([
        block('a', '0', Buffer.from('A')),
        block('odd', flag, Buffer.from('what the odd entry stores')),
        block('b', '0', Buffer.from('B')),
        Buffer.alloc(1024),
      ]);
      const image = buildRawImage([gzipLayer(tar)]);
      await pushRawImage(registry.url, `dialects/c${n}`, '1', image);
      const ref = `${registry.host}/dialects/c${n}:1`;
      const layer = sha256(image.layers[0]?.blob as Buffer);
      const line = `berth: ERR_LAYER_UNSUPPORTED: layer ${layer} of ${ref}: entry odd: tar type ${shown} is no file, directory, link, device or fifo: no image unpacker makes it (containerd, Docker and umoci refuse it too)\n`;
      const root = join(at, 'root');
      const pull = await runBerth(['--root', root, 'image', 'pull', ref]);
      expect([pull.code, pull.stderr]).toEqual([2, line]);
      const published = (await readdir(join(root, 'snapshots')).catch(() => [] as string[])).filter((s) =>
        /^[a-f0-9]{64}$/.test(s),
      );
      expect(published).toEqual([]);
      const stored = await runBerth(['--root', join(at, 'root2'), 'image', 'pull', '--no-unpack', ref]);
      expect([stored.code, stored.stderr]).toEqual([0, '']);
      const unpack = await runBerth(['--root', join(at, 'root2'), 'image', 'unpack', ref, join(at, 'dest')]);
      expect([unpack.code, unpack.stderr]).toEqual([2, line]);
      await expect(umociTree(at, ref)).rejects.toThrow(/unknown typeflag/);
    },
  );
});
