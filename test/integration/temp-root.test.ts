// A test's temp root removed with what a killed berth left mounted in it (helpers/temp-root.ts): an
// overlay probe's overlay with a tmpfs stacked on it, and a mount of a pod's volume. Plain `rm -rf`
// fails there with EBUSY and leaves the mounts.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountsUnder } from '../helpers/leaks.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot, unmountUnder } from '../helpers/temp-root.js';

const skip = missingPrereqs(['mount', 'umount'], { root: true });

describe.skipIf(skip)('removing a temp root', () => {
  let work = '';
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-temp-root-'));
    const probe = join(work, 'root', '.overlay-probe-1-2-3-0123abcd');
    for (const d of ['lower', 'upper', 'work', 'merged']) await mkdir(join(probe, d), { recursive: true });
    const o = `lowerdir=${join(probe, 'lower')},upperdir=${join(probe, 'upper')},workdir=${join(probe, 'work')}`;
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', o, join(probe, 'merged')]);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(probe, 'merged')]); // stacked
    const volume = join(work, 'root', 'pods', 'web', 'volumes', 'mem');
    await mkdir(volume, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', volume]);
  });
  afterEach(() => unmountUnder(work)); // whatever a failed case left

  it('takes every mount under it away, then removes it', async () => {
    expect(mountsUnder(work)).toHaveLength(3);
    await removeTempRoot(work);
    expect([existsSync(work), mountsUnder(work)]).toEqual([false, []]);
  });

  it('is needed: rm -rf alone fails on the mount point and leaves the mounts', async () => {
    await expect(rm(work, { recursive: true, force: true })).rejects.toMatchObject({ code: 'EBUSY' });
    expect(mountsUnder(work)).toHaveLength(3);
    await removeTempRoot(work);
  });

  it('is nothing to do for a root already gone', async () => {
    await removeTempRoot(work);
    await removeTempRoot(work);
    expect(existsSync(work)).toBe(false);
  });
});
