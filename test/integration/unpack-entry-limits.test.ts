// Entries no Linux file system can hold (a path past PATH_MAX, a name past NAME_MAX, a symlink
// target past 4095 bytes or empty, an owner outside uid_t): Go's reader takes them, and containerd then
// fails on a bare ENAMETOOLONG or cuts the id to 32 bits. Here each is one short line naming the
// layer, the image and the entry, exit 2, and nothing is published; a whiteout of such a name,
// which no file can have, does nothing.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildRawImage, gzipLayer, pushRawImage, sha256, type TarSpec } from '../helpers/tar-bytes.js';

const skip = missingPrereqs(['docker-registry', 'python3'], { root: true });

let registry: TestRegistry;
let work: string;
beforeAll(async () => {
  if (skip) return;
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'berth-entry-limits-'));
}, 60_000);
afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

let n = 0;
async function pull(layers: TarSpec[][], via: 'pull' | 'unpack') {
  const image = buildRawImage(layers.map((l) => gzipLayer(l)));
  const repo = `limits/img-${++n}`;
  await pushRawImage(registry.url, repo, '1', image);
  const ref = `${registry.host}/${repo}:1`;
  const root = join(work, `store-${n}`);
  const dest = join(work, `dest-${n}`);
  const noUnpack = via === 'unpack' ? ['--no-unpack'] : [];
  let res = await runBerth(['--root', root, 'image', 'pull', ...noUnpack, ref]);
  if (via === 'unpack' && res.code === 0)
    res = await runBerth(['--root', root, 'image', 'unpack', ref, dest]);
  const layer = sha256(image.layers[image.layers.length - 1]?.blob as Buffer);
  const snapshots = (await readdir(join(root, 'snapshots')).catch(() => [] as string[])).filter((s) =>
    /^[a-f0-9]{64}$/.test(s),
  );
  return { res, ref, layer, dest, snapshots };
}

const deep = (k: number) => Array.from({ length: k }, (_, i) => `${i}`.padEnd(250, 'd')).join('/');

describe.skipIf(skip)('entries Linux cannot hold are one line naming them', () => {
  it.each([
    [
      'a path past PATH_MAX',
      [{ name: `${deep(20)}/f`, body: 'x' }],
      /^entry 0d+…d+\/f \(5021 bytes\): a path longer than Linux takes \(4096 bytes with the destination\)$/,
    ],
    [
      'a name past NAME_MAX',
      [{ name: `dir/${'n'.repeat(300)}`, body: 'x' }],
      /^entry dir\/n+…n+ \(304 bytes\): a name of 300 bytes, longer than Linux takes \(255\)$/,
    ],
    [
      'a symlink target past 4095 bytes',
      [{ name: 'sl', type: 'symlink', linkname: 'a/'.repeat(2100) }],
      /^entry sl: a symlink target of 4200 bytes, longer than Linux takes \(4095\)$/,
    ],
    [
      // symlink(2) refuses an empty target (ENOENT), as umoci and containerd then fail: it was
      // ERR_UNPACK_FAILED, exit 1, quoting the syscall.
      'a symlink to nothing (an empty target)',
      [{ name: 'dir/empty-link', type: 'symlink', linkname: '' }],
      /^entry dir\/empty-link: a symlink with an empty target, which Linux cannot make$/,
    ],
    [
      'a hardlink to a path past PATH_MAX',
      [{ name: 'hl', type: 'link', linkname: `${deep(20)}/f` }],
      /^entry hl: a hardlink target of 5021 bytes, longer than Linux takes \(4096 bytes with the destination\)$/,
    ],
    [
      'a uid past uid_t',
      [{ name: 'u', body: 'x', pax: { uid: '99999999999' } }],
      /^entry u: owner 99999999999:0 is no Linux owner \(ids go to 4294967294\)$/,
    ],
    [
      'a gid of (gid_t)-1',
      [{ name: 'g', body: 'x', pax: { gid: '4294967295' } }],
      /^entry g: owner 0:4294967295 is no Linux owner \(ids go to 4294967294\)$/,
    ],
  ] as Array<[string, TarSpec[], RegExp]>)('%s', async (_label, entries, why) => {
    for (const via of ['pull', 'unpack'] as const) {
      const { res, ref, layer, snapshots } = await pull([entries], via);
      expect(res.stderr.endsWith('\n') && res.stderr.split('\n').length).toBe(2);
      const prefix = `berth: ERR_LAYER_UNSUPPORTED: layer ${layer} of ${ref}: `;
      expect(res.stderr.slice(0, prefix.length)).toBe(prefix);
      expect(res.stderr.slice(prefix.length, -1)).toMatch(why);
      expect(res.stderr.length).toBeLessThan(400);
      expect(res.code).toBe(2);
      if (via === 'pull') expect(snapshots).toEqual([]);
    }
  });

  it('a whiteout of a name past NAME_MAX names nothing there is: it does nothing', async () => {
    for (const via of ['pull', 'unpack'] as const) {
      const { res, dest } = await pull(
        [
          [{ name: 'keep', body: 'kept' }],
          [{ name: `.wh.${'n'.repeat(300)}` }, { name: 'new', body: 'new' }],
        ],
        via,
      );
      expect([res.code, res.stderr]).toEqual([0, '']);
      if (via === 'unpack') expect(await readFile(join(dest, 'keep'), 'utf8')).toBe('kept');
    }
  });
});
