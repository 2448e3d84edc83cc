// Hostile layers against every path that writes them: `berth image pull` in overlay form (what a
// pull does on every ordinary host), `image pull` with the native snapshotter, and `image unpack`.
// The images are written byte by byte and served by a real registry on loopback; a directory
// beside the store (and beside DEST) holds victims whose names, contents, modes, times and xattrs
// must come through untouched. Covers whiteouts naming `..`, `.` or nothing, and every operation
// done at a layer's end after a later entry of the same layer turned its parent into a symlink.
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildRawImage, gzipLayer, pushRawImage, sha256, type TarSpec } from '../helpers/tar-bytes.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['docker-registry', 'getfattr', 'python3'], { root: true });

let registry: TestRegistry;
let work: string;
beforeAll(async () => {
  if (skip) return;
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'berth-confine-'));
}, 60_000);
afterAll(async () => {
  await registry?.stop();
  if (work) await removeTempRoot(work);
});

/** Everything observable about a directory: names, types, modes, sizes, times (dirs too), xattrs. */
function observe(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string) => {
    const st = lstatSync(p);
    const xattrs = execFileSync('getfattr', ['-h', '-d', '-m', '-', '--absolute-names', p], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .join(',');
    const content = st.isFile() ? readFileSync(p, 'utf8') : '';
    out.push(`${rel} ${st.mode.toString(8)} ${st.rdev} ${st.mtimeMs} ${content} [${xattrs}]`);
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n), `${rel}/${n}`);
  };
  walk(dir, '.');
  return out;
}

/** A fresh case directory: `outside/` full of victims, a store beside it. */
async function prepareCase(name: string) {
  const dir = join(work, name);
  const outside = join(dir, 'outside');
  await mkdir(join(outside, 'b'), { recursive: true });
  for (const f of ['victim', 'f']) {
    await writeFile(join(outside, f), 'precious');
    await chmod(join(outside, f), 0o600);
  }
  execFileSync('setfattr', ['-n', 'user.mine', '-v', 'keep', join(outside, 'f')]);
  for (const p of ['victim', 'f', 'b', '.']) await utimes(join(outside, p), 1_000_000, 1_000_000);
  // Beside DEST (image unpack) and beside the store's snapshot temp dirs' parents.
  await writeFile(join(dir, 'victim'), 'precious');
  return { dir, outside, before: observe(dir) };
}

type Path = 'pull' | 'pull-native' | 'unpack';

/** Push `layers` as an image and run it through `path`; returns the CLI result. */
async function runCase(name: string, path: Path, layers: (outside: string) => TarSpec[][]) {
  const { dir, outside, before } = await prepareCase(`${name}-${path}`);
  const repo = `confine/${name.replace(/[^a-z0-9]+/g, '-')}-${path}`;
  const image = buildRawImage(layers(outside).map((l) => gzipLayer(l)));
  await pushRawImage(registry.url, repo, '1', image);
  const digests = image.layers.map((l) => sha256(l.blob));
  const ref = `${registry.host}/${repo}:1`;
  const config = join(work, `${name}-${path}.yaml`);
  await writeFile(config, path === 'pull-native' ? 'unpack: { snapshotter: native }\n' : '{}\n');
  const base = ['--root', join(dir, 'store'), '--config', config];
  let res = await runBerth([...base, 'image', 'pull', ...(path === 'unpack' ? ['--no-unpack'] : []), ref]);
  if (path === 'unpack' && res.code === 0)
    res = await runBerth([...base, 'image', 'unpack', ref, join(dir, 'dest')]);
  // Nothing outside the store and DEST changed, whatever the outcome.
  const after = observe(dir).filter((l) => !/^\.\/(store|dest)[/ ]/.test(l) && !l.startsWith('. '));
  expect(after).toEqual(before.filter((l) => !l.startsWith('. ')));
  return { ...res, dir, outside, ref, base, digests };
}

const PATHS: Path[] = ['pull', 'pull-native', 'unpack'];

describe.skipIf(skip)('a whiteout that does not name one entry of its directory is refused', () => {
  it.each(
    PATHS.flatMap((path) =>
      [
        ['dotdotdot', '.wh...'],
        ['dotdot', '.wh..'],
        ['empty', '.wh.'],
        ['nested-dotdotdot', 'a/.wh...'],
      ].map(([label, name]) => [label as string, name as string, path] as const),
    ),
  )('%s (%s) via %s', async (label, name, path) => {
    const res = await runCase(`wh-${label}`, path, () => [
      [
        { name: 'a/', type: 'directory' },
        { name: 'a/keep', body: 'x' },
      ],
      [{ name }],
    ]);
    const base = name.split('/').pop();
    expect(res.stderr).toBe(
      `berth: ERR_LAYER_UNSAFE: layer ${res.digests[1]} of ${res.ref}: entry ${name}: whiteout "${base}" does not name a single entry of its directory\n`,
    );
    expect(res.code).toBe(6);
  });
});

/** Layers where work of the layer's end would land outside once `a` became a symlink to it. */
const DEFERRED: Array<[string, (outside: string) => TarSpec[][]]> = [
  [
    'whiteout device',
    (o) => [
      [
        { name: 'a/', type: 'directory' },
        { name: 'a/victim', body: 'lower' },
      ],
      [
        { name: 'a/', type: 'directory' },
        { name: 'a/.wh.victim' },
        { name: 'a', type: 'symlink', linkname: o },
      ],
    ],
  ],
  [
    'whiteout of a new name',
    (o) => [
      [
        { name: 'a/', type: 'directory' },
        { name: 'a/.wh.ghost' },
        { name: 'a', type: 'symlink', linkname: o },
      ],
    ],
  ],
  [
    'opaque marker',
    (o) => [
      [{ name: 'x', body: 'x' }],
      [
        { name: 'a/', type: 'directory' },
        { name: 'a/.wh..wh..opq' },
        { name: 'a', type: 'symlink', linkname: o },
      ],
    ],
  ],
  [
    'directory mtime',
    (o) => [
      [
        { name: 'a/', type: 'directory' },
        { name: 'a/b/', type: 'directory', mtime: 1234 },
        { name: 'a', type: 'symlink', linkname: o },
      ],
    ],
  ],
  [
    'xattr',
    (o) => [
      [
        { name: 'a/', type: 'directory' },
        { name: 'a/f', body: 'mine', xattrs: { 'user.evil': 'yes' } },
        { name: 'a', type: 'symlink', linkname: o },
      ],
    ],
  ],
  [
    'fifo',
    (o) => [
      [
        { name: 'a/', type: 'directory' },
        { name: 'a/pipe', type: 'fifo' },
        { name: 'a', type: 'symlink', linkname: o },
      ],
    ],
  ],
  [
    'device node',
    (o) => [
      [
        { name: 'a/', type: 'directory' },
        { name: 'a/null', type: 'char', devmajor: 1, devminor: 3 },
        { name: 'a', type: 'symlink', linkname: o },
      ],
    ],
  ],
  [
    'a parent two levels up',
    (o) => [
      [
        { name: 'a/b/', type: 'directory' },
        { name: 'a/b/.wh.victim' },
        { name: 'a/b/.wh..wh..opq' },
        { name: 'a', type: 'symlink', linkname: o },
      ],
    ],
  ],
];

describe.skipIf(skip)('work done at the end of a layer never follows a symlink made later in it', () => {
  it.each(PATHS.flatMap((path) => DEFERRED.map(([label, layers]) => [label, path, layers] as const)))(
    '%s, then its parent becomes a symlink, via %s',
    async (label, path, layers) => {
      const res = await runCase(`deferred-${label}`, path, layers);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      if (path === 'unpack') {
        // The layer's last word on `a` is the symlink, and that is what the tree holds.
        expect(lstatSync(join(res.dir, 'dest/a')).isSymbolicLink()).toBe(true);
      }
    },
  );
});

describe.skipIf(skip)('xattrs from an image', () => {
  it.each(PATHS)('only user.* and security.capability are set, via %s', async (path) => {
    const res = await runCase('xattrs', path, () => [
      [
        {
          name: 'f',
          body: 'x',
          xattrs: {
            'user.ok': 'yes',
            'trusted.overlay.opaque': 'y',
            'trusted.evil': 'y',
            'security.selinux': 'system_u:object_r:shadow_t:s0',
            'system.posix_acl_access': Buffer.from(
              '0200000001000600ffffffff04000400ffffffff10000400ffffffff20000400ffffffff',
              'hex',
            ),
          },
        },
      ],
    ]);
    expect([res.code, res.stderr]).toEqual([0, '']);
    if (path !== 'unpack') return;
    const names = execFileSync('getfattr', [
      '-h',
      '-d',
      '-m',
      '-',
      '--absolute-names',
      join(res.dir, 'dest/f'),
    ])
      .toString()
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(names).toEqual(['user.ok="yes"']);
  });
});

// An opaque marker's directory is resolved as any parent is (umoci and containerd resolve it so):
// through `esc -> f` it names the file f, which it leaves alone, and the entry under it is then
// refused, as umoci and containerd refuse it. (It made a directory esc, replacing the link.)
describe.skipIf(skip)('an opaque marker under a name a lower layer made a symlink to a file', () => {
  it.each(PATHS)('leaves the file, and the entry under it is refused in every form, via %s', async (path) => {
    const res = await runCase('opaque-over-symlink', path, () => [
      [
        { name: 'f', body: 'a file' },
        { name: 'esc', type: 'symlink', linkname: 'f' },
      ],
      [{ name: 'esc/.wh..wh..opq' }, { name: 'esc/new', body: 'new' }],
    ]);
    expect([res.code, res.stderr]).toEqual([
      6,
      `berth: ERR_LAYER_UNSAFE: layer ${res.digests[1]} of ${res.ref}: entry esc/new: /f is not a directory\n`,
    ]);
  });
});
