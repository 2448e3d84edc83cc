// The overlay probe (src/runtime/overlay-probe.ts) on a real overlayfs: a probe left by a berth that
// was killed mid-way (its overlay still mounted) is unmounted and removed by the next probe; one of
// a berth still running is left alone; a probe under a long path mounts under util-linux 2.39+, and
// under a path past mount(2)'s page; an answer kept by an older probe is not trusted, and is taken
// away when this version keeps its own (only the files berth wrote: no symlink followed).
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ownerToken } from '../../src/lib/process.js';
import { overlayRefusedAt, probeAnswerPath, probeOverlayUpper } from '../../src/runtime/overlay-probe.js';
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

  it('says overlayfs takes a --root 1.4 KB deep: its options stay within one page', async () => {
    // In full, lowerdir, upperdir and workdir of a 1.4 KB --root passed the page mount(2) copies;
    // the kernel refused the mount, and berth made native snapshots on a file system overlayfs takes.
    const deep = join(dir, ...Array.from({ length: 7 }, (_, i) => `${i}`.padEnd(200, 'd')));
    await mkdir(deep, { recursive: true });
    expect(await probeOverlayUpper(deep)).toBeUndefined();
  });

  it('trusts no answer an older probe kept: a refused from v1 is asked again', async () => {
    // v1's probe answered 'refused' under a long --root where overlayfs takes it, and kept it
    // until the next boot as overlay-probe/<dev>-<ino>; its answers are read no more.
    const state = join(dir, 'state');
    const st = await stat(dir);
    await mkdir(join(state, 'overlay-probe'), { recursive: true });
    await writeFile(join(state, 'overlay-probe', `${st.dev}-${st.ino}`), 'refused\n');
    expect(await overlayRefusedAt(dir, state)).toBe(false);
    expect(await readFile(probeAnswerPath(state, st), 'utf8')).toBe('ok\n');
    expect(probeAnswerPath(state, st)).toBe(join(state, 'overlay-probe', `v2-${st.dev}-${st.ino}`));
    // Its own answer is kept and trusted: a refused written there is believed without a probe.
    await writeFile(probeAnswerPath(state, st), 'refused\n');
    expect(await overlayRefusedAt(dir, state)).toBe(true);
  });

  it("takes away v1's answers when it keeps its own, only files berth wrote, no symlink followed", async () => {
    // v1's answers (<dev>-<ino>) are read by no berth since v2, and stayed in --state until a reboot.
    const state = join(dir, 'state');
    const kept = join(state, 'overlay-probe');
    const st = await stat(dir);
    await mkdir(kept, { recursive: true });
    await writeFile(join(kept, `${st.dev}-${st.ino}`), 'refused\n');
    await writeFile(join(kept, '64768-131'), 'ok\n'); // another --root's, on another file system
    // Of v1's names but not what berth wrote: a symlink to a file of berth's words, a file of other
    // words, a directory. Each stays as it is, and so does what the link names.
    const outside = join(dir, 'outside');
    await writeFile(outside, 'ok\n');
    await symlink(outside, join(kept, '1-2'));
    await writeFile(join(kept, '3-4'), 'ok\nmore\n');
    await mkdir(join(kept, '5-6'));
    expect(await overlayRefusedAt(dir, state)).toBe(false);
    expect((await readdir(kept)).sort()).toEqual(['1-2', '3-4', '5-6', `v2-${st.dev}-${st.ino}`].sort());
    expect(await readlink(join(kept, '1-2'))).toBe(outside);
    expect(await readFile(outside, 'utf8')).toBe('ok\n');
    expect(await readFile(join(kept, '3-4'), 'utf8')).toBe('ok\nmore\n');
    expect(await readFile(probeAnswerPath(state, st), 'utf8')).toBe('ok\n');
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
