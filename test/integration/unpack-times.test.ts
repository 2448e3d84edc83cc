// Entry times no clock holds: a PAX mtime of 1e20 seconds (or -1e20, or 1e15: past 2262, where a
// signed 64-bit count of nanoseconds ends) was an Invalid Date in JS, which Node's utimes took as
// the time of the unpack (so a digest of the tree changed from one unpack to the next); a dozen
// digits more and the PAX record was refused as malformed. containerd's applier bounds such a time to the epoch
// (archive's boundTime); so does berth, on a file, a directory (its time set at the layer's end)
// and a symlink, through a pull (overlay form, native form) and `image unpack`. A time before 1970
// that a clock holds is kept, as GNU tar and umoci keep it.
import { lstat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { registryWorkspace } from '../helpers/registry-workspace.js';
import { buildRawImage, gzipLayer, pushRawImage } from '../helpers/tar-bytes.js';

const skip = missingPrereqs(['docker-registry', 'python3'], { root: true });

const ws = registryWorkspace('berth-times-', skip);

const LAYER = gzipLayer([
  { name: 'far', body: 'far', pax: { mtime: '100000000000000000000' } },
  { name: 'past', body: 'past', pax: { mtime: '-100000000000000000000' } },
  { name: 'y2262', body: 'after 2262', pax: { mtime: '1000000000000000' } },
  { name: 'dir/', type: 'directory', pax: { mtime: '99999999999999999999.5' } },
  { name: 'dir/in', body: 'in' },
  { name: 'link', type: 'symlink', linkname: 'far', pax: { mtime: '100000000000000000000' } },
  { name: 'old', body: 'a day before 1970', pax: { mtime: '-86400' } },
  { name: 'now', body: 'now', pax: { mtime: '1700000000.25' } },
]);

const WANT: Record<string, number> = {
  far: 0,
  past: 0,
  y2262: 0,
  dir: 0,
  link: 0,
  old: -86400_000,
  now: 1_700_000_000_250,
};

async function mtimes(root: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(WANT)) out[name] = (await lstat(join(root, name))).mtimeMs;
  return out;
}

describe.skipIf(skip)('entry times past any clock', () => {
  it('are the epoch on every path, as containerd bounds them; a time before 1970 is kept', async () => {
    const image = buildRawImage([LAYER]);
    await pushRawImage(ws.registry.url, 'times/far', '1', image);
    const ref = `${ws.registry.host}/times/far:1`;
    const fsOf = (root: string, native: boolean) =>
      join(root, 'snapshots', ...(native ? ['native'] : []), LAYER.diffId.slice(7), 'fs');

    const overlay = join(ws.work, 'overlay');
    const pulled = await runBerth(['--root', overlay, 'image', 'pull', ref]);
    expect([pulled.code, pulled.stderr]).toEqual([0, '']);
    expect(await mtimes(fsOf(overlay, false))).toEqual(WANT);

    await writeFile(join(ws.work, 'native.yaml'), 'unpack: { snapshotter: native }\n');
    const native = join(ws.work, 'native');
    const nativePull = await runBerth([
      '--root',
      native,
      '--config',
      join(ws.work, 'native.yaml'),
      'image',
      'pull',
      ref,
    ]);
    expect([nativePull.code, nativePull.stderr]).toEqual([0, '']);
    expect(await mtimes(fsOf(native, true))).toEqual(WANT);

    const dest = join(ws.work, 'dest');
    const unpacked = await runBerth(['--root', overlay, 'image', 'unpack', ref, dest]);
    expect([unpacked.code, unpacked.stderr]).toEqual([0, '']);
    expect(await mtimes(dest)).toEqual(WANT);
  }, 120_000);
});
