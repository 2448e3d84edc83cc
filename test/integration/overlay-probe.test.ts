// The overlay probe (src/runtime/overlay-probe.ts) on a real overlayfs: a probe left by a berth that
// was killed mid-way (its overlay still mounted) is unmounted and removed by the next probe; one of
// a berth still running is left alone; a probe under a long path mounts under util-linux 2.39+.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ownerToken } from '../../src/lib/process.js';
import { probeOverlayUpper } from '../../src/runtime/overlay-probe.js';
import { fsconfigMountShim } from '../helpers/mount-shim.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['mount', 'umount'], { root: true });

const mounted = async (path: string) =>
  (await readFile('/proc/self/mountinfo', 'utf8')).includes(` ${path} `);

async function leftProbe(dir: string, owner: string): Promise<string> {
  const probe = join(dir, `.overlay-probe-${owner}-0123abcd`);
  for (const d of ['lower', 'upper', 'work', 'merged']) await mkdir(join(probe, d), { recursive: true });
  const o = `lowerdir=${join(probe, 'lower')},upperdir=${join(probe, 'upper')},workdir=${join(probe, 'work')}`;
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', o, join(probe, 'merged')]);
  return probe;
}

describe.skipIf(skip)('overlay probe', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-probe-'));
  });
  afterEach(async () => {
    for (const n of await readdir(dir).catch(() => [] as string[]))
      if (await mounted(join(dir, n, 'merged'))) execFileSync('umount', ['-l', join(dir, n, 'merged')]);
    await rm(dir, { recursive: true, force: true });
  });

  it('says overlayfs takes a --root whose probe paths pass 255 bytes, under util-linux 2.39+', async () => {
    // upperdir=<dir>/.overlay-probe-<owner>-<rand>/upper is one fsconfig value: a mount of 2.39+
    // refused it ('wrong fs type, bad option'), and berth took the file system for one overlayfs
    // refuses (native snapshots, a copy of the image per layer) unless mount was told to use mount(2).
    const deep = join(dir, 'd'.repeat(200));
    await mkdir(deep);
    const PATH = process.env.PATH;
    process.env.PATH = `${await fsconfigMountShim(dir)}:${PATH}`;
    try {
      expect(await probeOverlayUpper(deep)).toBeUndefined();
    } finally {
      process.env.PATH = PATH;
    }
  });

  it("takes away a killed berth's probe, still mounted, and leaves a running one's", async () => {
    const dead = await leftProbe(dir, '999999999-1-deadbeef'); // no such pid: its berth is gone
    const live = await leftProbe(dir, ownerToken());
    expect(await mounted(join(dead, 'merged'))).toBe(true);
    expect(await probeOverlayUpper(dir)).toBeUndefined();
    expect(await mounted(join(dead, 'merged'))).toBe(false);
    expect(await readdir(dir)).toEqual([live.slice(dir.length + 1)]);
    expect(await mounted(join(live, 'merged'))).toBe(true);
  });
});
