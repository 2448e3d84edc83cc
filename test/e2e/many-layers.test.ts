// An image of 128 layers end to end, as root: pull from a loopback registry, run a container on the
// overlay of all its snapshots, remove both. The `lowerdir=` option must stay short (one page for
// mount(2), 256 bytes per value for fsconfig): full snapshot paths made images past ~42 layers fail.
// berth runs under a `mount` that acts as util-linux 2.39+ does (mount-shim.ts): even short names
// (`0:1:…:127`, 401 bytes) are past fsconfig's 256, so mount must be told to use mount(2).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { fsconfigMountShim } from '../helpers/mount-shim.js';
import { containerStates, until } from '../helpers/poll.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildRawImage, gzipLayer, pushRawImage, type TarSpec } from '../helpers/tar-bytes.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'findmnt'], { root: true });
const LAYERS = 128;

/** Layer 0: static busybox as /bin/sh; layer i > 0 adds /layers/i and whites out /layers/(i-1)'s twin. */
function layers(): TarSpec[][] {
  const base: TarSpec[] = [
    { name: 'bin/', type: 'directory' },
    { name: 'bin/busybox', body: readFileSync('/bin/busybox'), mode: 0o755 },
    { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
    { name: 'layers/', type: 'directory' },
    { name: 'layers/twin-0', body: 'twin' },
  ];
  const out = [base];
  for (let i = 1; i < LAYERS; i++) {
    out.push([
      { name: 'layers/', type: 'directory' },
      { name: `layers/${i}`, body: `layer ${i}\n` },
      { name: `layers/.wh.twin-${i - 1}` },
      { name: `layers/twin-${i}`, body: 'twin' },
    ]);
  }
  return out;
}

describe.skipIf(skip)('an image of 128 layers', () => {
  let registry: TestRegistry;
  let work: string;
  beforeAll(async () => {
    registry = await startRegistry();
    work = await mkdtemp(join(tmpdir(), 'berth-layers-'));
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
    if (work) await removeTempRoot(work);
  });

  it('pulls, runs and is removed', async () => {
    const image = buildRawImage(layers().map((l) => gzipLayer(l)));
    await pushRawImage(registry.url, 'test/layers', '128', image);
    const ref = `${registry.host}/test/layers:128`;
    const root = join(work, 'root');
    const state = join(work, 'state');
    const PATH = `${await fsconfigMountShim(work)}:${process.env.PATH}`;
    const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args], { PATH });
    const ok = async (...args: string[]) => {
      const res = await berth(...args);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      return res.stdout;
    };
    expect(JSON.parse(await ok('image', 'pull', '-o', 'json', ref)).unpackedLayers).toBe(LAYERS);
    await ok(
      'container',
      'create',
      ref,
      'deep',
      '--',
      '/bin/sh',
      '-c',
      'ls /layers | wc -l; cat /layers/127; ls /layers | grep twin',
    );
    await ok('container', 'start', 'deep');
    await until(
      'deep exited',
      async () => (await containerStates(berth)).deep?.endsWith(':exited') ?? false,
      400,
      50,
    );
    // 127 numbered files and exactly one twin: every whiteout of the 127 upper layers applied.
    expect(await ok('container', 'logs', 'deep')).toBe(`128\nlayer 127\ntwin-127\n`);
    await ok('container', 'rm', 'deep');
    await ok('image', 'rm', ref);
    const mounts = execFileSync('findmnt', ['-rn', '-o', 'TARGET']).toString().split('\n');
    expect(mounts.filter((m) => m.startsWith(work))).toEqual([]);
    expect((await readdir(join(root, 'snapshots'))).filter((n) => !n.startsWith('.'))).toEqual([]);
  }, 300_000);
});
