import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildRawImage, gzipLayer, pushRawImage, sha256, type TarSpec } from '../helpers/tar-bytes.js';
import { removeTempRoot } from '../helpers/temp-root.js';
import { readOverlay } from '../helpers/tree.js';

const skip = missingPrereqs(['docker-registry', 'python3', 'mount'], { root: true });

// ---- the model ------------------------------------------------------------------------------
type Node = { type: string; mode: number; uid: number; gid: number; detail: string };

const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 16);
const clean = (name: Buffer): string =>
  name
    .toString('latin1')
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/');

function dropTree(state: Map<string, Node>, p: string): void {
  state.delete(p);
  for (const k of [...state.keys()]) if (k.startsWith(`${p}/`)) state.delete(k);
}

function applyModelLayer(state: Map<string, Node>, entries: TarSpec[]): void {
  // Whiteouts and opaque markers hide what the layers below made: apply them to the lower state first.
  for (const e of entries) {
    const p = clean(Buffer.from(e.name));
    const i = p.lastIndexOf('/');
    const dir = i < 0 ? '' : p.slice(0, i);
    const base = p.slice(i + 1);
    if (base === '.wh..wh..opq') {
      for (const k of [...state.keys()]) if (k.startsWith(dir === '' ? '' : `${dir}/`)) state.delete(k);
      // Its directory is made where there is none (a whiteout before it took it), as every
      // unpacker makes an entry's parents; a whiteout after it takes it again.
      if (dir !== '' && !state.has(dir))
        state.set(dir, { type: 'directory', mode: 0o755, uid: 0, gid: 0, detail: '' });
    } else if (base.startsWith('.wh.')) {
      dropTree(state, dir === '' ? base.slice(4) : `${dir}/${base.slice(4)}`);
    }
  }
  for (const e of entries) {
    const p = clean(Buffer.from(e.name));
    const base = p.slice(p.lastIndexOf('/') + 1);
    if (base.startsWith('.wh.')) continue;
    const type = e.type ?? 'file';
    const existing = state.get(p);
    // A link's target is read before its own name is replaced (a link to itself stays the file).
    const linked = type === 'link' ? state.get(clean(Buffer.from(e.linkname ?? ''))) : undefined;
    if (existing && !(existing.type === 'directory' && type === 'directory')) dropTree(state, p);
    const meta = {
      mode: (e.mode ?? (type === 'directory' ? 0o755 : 0o644)) & 0o7777,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
    };
    if (type === 'link') {
      state.set(p, { ...(linked as Node) });
    } else if (type === 'symlink') {
      state.set(p, {
        type,
        mode: 0o777,
        uid: meta.uid,
        gid: meta.gid,
        detail: `-> ${Buffer.from(e.linkname ?? '').toString('latin1')}`,
      });
    } else if (type === 'file') {
      state.set(p, { type, ...meta, detail: hex(Buffer.from(e.body ?? '')) });
    } else if (type === 'char') {
      state.set(p, { type, ...meta, detail: `${e.devmajor ?? 0},${e.devminor ?? 0}` });
    } else {
      state.set(p, { type, ...meta, detail: '' });
    }
  }
}

function modelTree(layers: TarSpec[][]): string[] {
  const state = new Map<string, Node>();
  for (const l of layers) applyModelLayer(state, l);
  return [...state]
    .map(([p, n]) => `/${p} ${n.type} ${n.mode.toString(8)} ${n.uid}:${n.gid} ${n.detail}`)
    .sort();
}

/** The same listing of a real tree. */
function observeTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: Buffer, rel: string) => {
    for (const name of readdirSync(dir, { encoding: 'buffer' })) {
      const p = Buffer.concat([dir, Buffer.from('/'), name]);
      const r = rel === '' ? name.toString('latin1') : `${rel}/${name.toString('latin1')}`;
      const st = lstatSync(p);
      const own = `${st.uid}:${st.gid}`;
      if (st.isDirectory()) {
        out.push(`/${r} directory ${(st.mode & 0o7777).toString(8)} ${own} `);
        walk(p, r);
      } else if (st.isSymbolicLink()) {
        out.push(`/${r} symlink 777 ${own} -> ${readlinkSync(p, { encoding: 'buffer' }).toString('latin1')}`);
      } else if (st.isFile()) {
        out.push(`/${r} file ${(st.mode & 0o7777).toString(8)} ${own} ${hex(readFileSync(p))}`);
      } else if (st.isFIFO()) {
        out.push(`/${r} fifo ${(st.mode & 0o7777).toString(8)} ${own} `);
      } else if (st.isCharacterDevice()) {
        out.push(
          `/${r} char ${(st.mode & 0o7777).toString(8)} ${own} ${Math.floor(st.rdev / 256)},${st.rdev % 256}`,
        );
      } else {
        out.push(`/${r} other`);
      }
    }
  };
  walk(Buffer.from(root), '');
  return out.sort();
}

// ---- the cases ------------------------------------------------------------------------------
const dir = (name: string, extra: Partial<TarSpec> = {}): TarSpec => ({ name, type: 'directory', ...extra });
const file = (name: string | Buffer, body = 'x', extra: Partial<TarSpec> = {}): TarSpec => ({
  name,
  body,
  ...extra,
});
const wh = (name: string | Buffer): TarSpec => ({ name });
const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

const CASES: Array<[string, TarSpec[][]]> = [
  [
    'whiteout before and after re-creating a directory',
    [
      [dir('d/'), file('d/old'), dir('e/'), file('e/old')],
      [wh('.wh.d'), dir('d/'), file('d/new'), dir('e/'), file('e/new'), wh('.wh.e')],
    ],
  ],
  [
    'opaque marker before and after the layer own children',
    [
      [dir('opq1/'), file('opq1/a'), dir('opq2/'), dir('opq2/sub/'), file('opq2/sub/b'), file('opq2/c')],
      [
        dir('opq1/'),
        wh('opq1/.wh..wh..opq'),
        file('opq1/new'),
        dir('opq2/'),
        dir('opq2/sub/'),
        file('opq2/sub/new'),
        wh('opq2/.wh..wh..opq'),
      ],
    ],
  ],
  [
    'a lower directory whited out, then an opaque marker in it, in one layer',
    [
      [dir('d/'), file('d/old'), file('keep')],
      [wh('.wh.d'), wh('d/.wh..wh..opq')],
    ],
  ],
  [
    'an opaque marker in a lower directory, then the directory whited out, in one layer',
    [
      [dir('d/'), file('d/old'), file('keep')],
      [wh('d/.wh..wh..opq'), wh('.wh.d')],
    ],
  ],
  [
    'whiteout of a file, then a directory of the same name',
    [[file('x', 'file')], [wh('.wh.x'), dir('x/'), file('x/y')]],
  ],
  [
    'type changes file, directory, symlink across layers',
    [
      [file('a'), dir('b/'), file('b/inner'), { name: 'c', type: 'symlink', linkname: 'a' }],
      [
        wh('.wh.a'),
        dir('a/'),
        wh('.wh.b'),
        { name: 'b', type: 'symlink', linkname: 'a' },
        wh('.wh.c'),
        file('c', 'now a file'),
      ],
    ],
  ],
  [
    'a whiteout of what the same layer adds, and of what exists nowhere',
    [[dir('x/')], [dir('x/'), file('x/foo', 'mine'), wh('x/.wh.foo'), wh('x/.wh.never'), wh('.wh.nowhere')]],
  ],
  [
    'a hardlink to a lower file, then that file whited out',
    [
      [dir('bin/'), file('bin/tool', 'the tool', { mode: 0o755 })],
      [dir('bin/'), { name: 'bin/alias', type: 'link', linkname: 'bin/tool' }],
      [dir('bin/'), wh('bin/.wh.tool')],
    ],
  ],
  [
    'a hardlink chain',
    [
      [
        file('a', 'shared'),
        { name: 'b', type: 'link', linkname: 'a' },
        { name: 'c', type: 'link', linkname: 'b' },
      ],
    ],
  ],
  [
    // GNU tar takes a link to itself as the file it already is; Go's writers remove the name first
    // and then fail on a link to nothing.
    'a hardlink to itself: the file it already is, in its layer or a lower one',
    [
      [file('self', 'mine'), { name: 'self', type: 'link', linkname: './self' }, file('low', 'lower')],
      [{ name: 'low', type: 'link', linkname: 'low' }],
    ],
  ],
  [
    'duplicate entries of different types: the last wins',
    [
      [
        file('d', 'first'),
        dir('d/'),
        file('d/child'),
        { name: 'd', type: 'symlink', linkname: 'elsewhere' },
        dir('e/'),
        file('e/child'),
        file('e', 'file now'),
        { name: 'p', type: 'fifo' },
        file('p', 'not a fifo'),
        file('q', 'not a device'),
        { name: 'q', type: 'char', devmajor: 1, devminor: 3 },
        file('r', 'one', { xattrs: { 'user.first': '1' } }),
        file('r', 'two'),
      ],
    ],
  ],
  [
    'directories whose mode and owner change in an upper layer',
    [
      [dir('m/', { mode: 0o700 }), file('m/f'), dir('s/', { mode: 0o755 })],
      [dir('m/', { mode: 0o1777, uid: 1234, gid: 5678 }), dir('s/', { mode: 0o2750, uid: 7, gid: 8 })],
    ],
  ],
  ['empty layers', [[], [file('only')], []]],
  [
    'a layer of whiteouts only',
    [
      [dir('a/'), file('a/1'), file('b'), file('c')],
      [wh('a/.wh.1'), wh('.wh.b')],
    ],
  ],
  [
    'names that are not UTF-8',
    [
      [dir('n/'), file(bytes('n/bad-', [0xff, 0xfe]), 'fe'), file(bytes('n/bad-', [0xff, 0xfd]), 'fd')],
      [dir('n/'), wh(bytes('n/.wh.bad-', [0xff, 0xfe])), file(bytes('n/new-', [0xe9]), 'e9')],
    ],
  ],
  [
    'devices, fifos and odd modes',
    [
      [
        { name: 'null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
        { name: 'fifo', type: 'fifo', mode: 0o600 },
        file('suid', 'x', { mode: 0o4755 }),
      ],
    ],
  ],
  [
    '201 layers',
    [
      [dir('l/'), file('l/twin-0')],
      ...Array.from({ length: 200 }, (_, i) => [
        dir('l/'),
        file(`l/${i + 1}`, `${i + 1}`),
        wh(`l/.wh.twin-${i}`),
        file(`l/twin-${i + 1}`),
      ]),
    ],
  ],
];

// ---- the paths ------------------------------------------------------------------------------
let registry: TestRegistry;
let work: string;
beforeAll(async () => {
  if (skip) return;
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'berth-diff-'));
}, 60_000);
afterAll(async () => {
  await registry?.stop();
  if (work) await removeTempRoot(work);
});

async function ok(args: string[]): Promise<string> {
  const res = await runBerth(args);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return res.stdout;
}

/** The merged tree of an overlay of `lowers` (top first), seen through a read-only mount. */
const overlayTree = (at: string, lowers: string[]) => readOverlay(at, lowers, observeTree);

describe.skipIf(skip)('every path gives the tree the tar semantics give', () => {
  let n = 0;
  it.each(CASES)(
    '%s',
    async (_label, layers) => {
      const at = join(work, `case-${n++}`);
      await mkdir(at);
      const image = buildRawImage(layers.map((l) => gzipLayer(l)));
      const repo = `diff/case-${n}`;
      await pushRawImage(registry.url, repo, '1', image);
      const ref = `${registry.host}/${repo}:1`;
      const want = modelTree(layers);
      expect(want.length).toBeGreaterThan(0);

      // 1. A pull in overlay form, mounted.
      const overlayRoot = join(at, 'overlay');
      await ok(['--root', overlayRoot, 'image', 'pull', ref]);
      const chainIds: string[] = [];
      for (const l of image.layers) {
        const prev = chainIds[chainIds.length - 1];
        chainIds.push(prev ? sha256(`${prev} ${l.diffId}`) : l.diffId);
      }
      const lowers = chainIds.map((c) => join(overlayRoot, 'snapshots', c.slice(7), 'fs')).reverse();
      expect(await overlayTree(at, lowers)).toEqual(want);

      // 2. A pull with the native snapshotter: the top snapshot is the whole tree.
      const nativeRoot = join(at, 'native');
      await writeFile(join(at, 'native.yaml'), 'unpack: { snapshotter: native }\n');
      await ok(['--root', nativeRoot, '--config', join(at, 'native.yaml'), 'image', 'pull', ref]);
      const top = chainIds[chainIds.length - 1] as string;
      expect(observeTree(join(nativeRoot, 'snapshots/native', top.slice(7), 'fs'))).toEqual(want);

      // 3. image unpack.
      await ok(['--root', overlayRoot, 'image', 'unpack', ref, join(at, 'dest')]);
      expect(observeTree(join(at, 'dest'))).toEqual(want);
    },
    300_000,
  );
});
