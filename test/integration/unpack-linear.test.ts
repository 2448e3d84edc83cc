// A layer applies in time linear in its entries, in both forms, however it repeats itself: each
// replaced entry used to scan everything the writer kept (every directory, every directory time);
// each opaque marker or whiteout of a directory the layer made again read the whole directory
// again; each hardlink to a fifo or device the layer had not made yet started a python3 process.
// A few tens of kilobytes of gzip held an unpack thread for minutes. What the layer says still
// holds: the last entry for a name wins, the layer's own files stay, a hardlink shares its node.
import { lstatSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApplyMode, createTarApplier } from '../../src/snapshot/apply.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { type TarSpec, tarBytes } from '../helpers/tar-bytes.js';
import { removeTempRoot } from '../helpers/temp-root.js';
import { xattrOf } from '../helpers/tree.js';

const skip = missingPrereqs(['python3', 'getfattr'], { root: true });

let work: string;
beforeAll(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), 'berth-linear-'));
});
afterAll(async () => {
  if (work) await removeTempRoot(work);
});

let n = 0;
/** Applies `entries` as one layer into a fresh directory; its path and the milliseconds it took. */
async function apply(entries: TarSpec[], mode: ApplyMode): Promise<{ root: string; ms: number }> {
  const root = join(work, `layer-${++n}`);
  await mkdir(root);
  const bytes = tarBytes(entries);
  const started = performance.now();
  const tar = createTarApplier(root, { mode, preserveOwnership: true });
  for (let at = 0; at < bytes.length; at += 1 << 20) tar.push(bytes.subarray(at, at + (1 << 20)));
  await tar.close();
  return { root, ms: performance.now() - started };
}

const range = (count: number) => Array.from({ length: count }, (_, i) => i);
const dir = (name: string): TarSpec => ({ name, type: 'directory' });

describe.skipIf(skip)('a layer naming the same paths many times', () => {
  it.each(['overlay', 'native'] as const)(
    '20,000 directories, then one file name 20,000 times: linear, the last file stays (%s)',
    async (mode) => {
      const count = 20_000;
      const { root, ms } = await apply(
        [
          ...range(count).map((i) => dir(`d${i}/`)),
          ...range(count).map((i) => ({ name: 'x', body: `${i}` })),
        ],
        mode,
      );
      // Was 75 s on a quiet host (each replaced `x` scanned all 20,000 directories and their
      // times); 9 s now on a host loaded twelve times over, 1 s when quiet.
      expect(ms).toBeLessThan(45_000);
      const names = await readdir(root);
      expect(names).toHaveLength(count + 1);
      expect(await readFile(join(root, 'x'), 'utf8')).toBe(`${count - 1}`);
    },
    120_000,
  );

  it('3,000 files, then 3,000 opaque markers and whiteouts of their directory: linear, the files stay (native)', async () => {
    const count = 3_000;
    const files = range(count).map((i) => ({ name: `d/f${i}`, body: 'f' }));
    const { root, ms } = await apply(
      [
        dir('d/'),
        dir('d/sub/'),
        ...files,
        ...range(count).map((i) => ({ name: i % 2 ? 'd/.wh..wh..opq' : 'd/sub/.wh..wh..opq' })),
        ...range(count).map(() => ({ name: '.wh.d' })),
      ],
      'native',
    );
    // Was 90 s: every marker read the directory of 3,000 files again.
    expect(ms).toBeLessThan(15_000);
    expect((await readdir(join(root, 'd'))).length).toBe(count + 1);
  }, 120_000);

  it.each(['overlay', 'native'] as const)(
    '2,000 fifos and devices, each hardlinked at once: linear, each link its node (%s)',
    async (mode) => {
      const count = 2_000;
      const { root, ms } = await apply(
        range(count).flatMap((i): TarSpec[] => [
          i % 2 ? { name: `n${i}`, type: 'fifo' } : { name: `n${i}`, type: 'char', devmajor: 1, devminor: 3 },
          { name: `h${i}`, type: 'link', linkname: `n${i}` },
        ]),
        mode,
      );
      // Was a python3 process per link: 40 s and more.
      expect(ms).toBeLessThan(15_000);
      for (const i of [0, 1, count - 1]) {
        const [node, link] = [lstatSync(join(root, `n${i}`)), lstatSync(join(root, `h${i}`))];
        expect([link.ino, link.nlink, i % 2 ? link.isFIFO() : link.isCharacterDevice()]).toEqual([
          node.ino,
          2,
          true,
        ]);
      }
    },
    120_000,
  );

  it('a hardlink keeps the node and xattrs it shares when a later entry takes the name it linked to', async () => {
    const { root } = await apply(
      [
        { name: 'p', type: 'fifo' },
        { name: 'hp', type: 'link', linkname: 'p' },
        { name: 'p', body: 'a file now' },
        { name: 'f', body: 'x', xattrs: { 'user.kept': 'yes' } },
        { name: 'hf', type: 'link', linkname: 'f' },
        { name: 'f', type: 'directory' },
        { name: 'q', type: 'fifo' },
        { name: 'q', type: 'link', linkname: 'q' },
      ],
      'overlay',
    );
    expect(lstatSync(join(root, 'hp')).isFIFO()).toBe(true);
    expect(lstatSync(join(root, 'p')).isFile()).toBe(true);
    expect(xattrOf(join(root, 'hf'), 'user.kept')).toBe('yes');
    expect(lstatSync(join(root, 'f')).isDirectory()).toBe(true);
    expect(lstatSync(join(root, 'q')).isFIFO()).toBe(true);
  });
});
