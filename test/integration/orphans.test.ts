// Bundles a killed berth left behind (a create killed before its record, a removal killed after
// deleting it), reaped with real runc and real mounts in a temp root: an orphan goes whole, its
// mounts unmounted first so nothing is deleted through them; a create in progress (its marker's
// owner alive) and a container with a record, readable or not, are never touched.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerToken } from '../../src/lib/process.js';
import { markCreating, reapOrphans, removeById } from '../../src/runtime/orphans.js';
import { containerPaths, type RuntimePaths, runtimePaths } from '../../src/runtime/paths.js';
import { createRunc } from '../../src/runtime/runc.js';
import { openStagingDir } from '../../src/runtime/staging-dir.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'findmnt', 'chattr'], { root: true });

describe.skipIf(skip)('orphaned bundles', () => {
  let work: string;
  let paths: RuntimePaths;
  const id = (n: number) => n.toString(16).padStart(32, 'a');
  const mounted = () =>
    execFileSync('findmnt', ['-rn', '-o', 'TARGET'])
      .toString()
      .split('\n')
      .filter((m) => m.startsWith(work));

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-orphans-'));
    paths = runtimePaths(join(work, 'root'), join(work, 'state'));
    await mkdir(paths.containers, { recursive: true });
  });
  afterAll(async () => {
    for (const m of mounted().reverse()) execFileSync('umount', [m]);
    await removeTempRoot(work);
  });

  it('reaps what no live create owns, unmounting before it deletes; keeps the rest', async () => {
    const bundle = (n: number) => containerPaths(paths, id(n)).dir;
    // 1: a create killed after it mounted the rootfs and staged a subPath bind of a volume.
    const volume = join(work, 'volume');
    await mkdir(volume, { recursive: true });
    await writeFile(join(volume, 'data'), 'keep me');
    await mkdir(join(bundle(1), 'rootfs'), { recursive: true });
    await mkdir(join(bundle(1), 'subpaths', '0'), { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(bundle(1), 'rootfs')]);
    execFileSync('mount', ['--bind', volume, join(bundle(1), 'subpaths', '0')]);
    await writeFile(join(paths.containers, `${id(1)}.creating`), '1-1-deadbeef'); // another boot's
    // 2: a removal killed after it deleted the record (no marker at all).
    await mkdir(join(bundle(2), 'upper'), { recursive: true });
    // 3: a create in progress in this very process.
    await mkdir(bundle(3), { recursive: true });
    const unmark = await markCreating(paths, id(3));
    // 4: a container with a record, and a marker its dead creator never removed.
    await mkdir(bundle(4), { recursive: true });
    await writeFile(join(bundle(4), 'container.json'), '{}');
    await writeFile(join(paths.containers, `${id(4)}.creating`), '1-1-deadbeef');
    // 5: a record that cannot be used is a bad record (reported elsewhere), not an orphan.
    await mkdir(bundle(5), { recursive: true });
    await writeFile(join(bundle(5), 'container.json'), '');

    const { reaped, failed } = await reapOrphans({ paths, runc: createRunc(paths.runcRoot) });

    expect([reaped.sort(), failed]).toEqual([[id(1), id(2)], []]);
    expect(mounted()).toEqual([]);
    expect(await readFile(join(volume, 'data'), 'utf8')).toBe('keep me');
    expect((await readdir(paths.containers)).sort()).toEqual([id(3), `${id(3)}.creating`, id(4), id(5)]);
    expect(await readFile(join(paths.containers, `${id(3)}.creating`), 'utf8')).toBe(ownerToken());
    await unmark();
    expect(existsSync(join(paths.containers, `${id(3)}.creating`))).toBe(false);
    // Once its creator is gone without a record, the next reap takes it.
    expect((await reapOrphans({ paths, runc: createRunc(paths.runcRoot) })).reaped).toEqual([id(3)]);
  });

  it('reaps a create killed with its staging directory mounted private on itself, and all it held', async () => {
    const bundle = containerPaths(paths, id(7)).dir;
    const volume = join(work, 'volume7');
    await mkdir(join(volume, 'sub'), { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(volume, 'sub')]);
    await writeFile(join(volume, 'data'), 'keep me');
    try {
      const staged: string[] = [];
      const staging = await openStagingDir(bundle, staged);
      await mkdir(join(staging, '0'));
      execFileSync('mount', ['--rbind', volume, join(staging, '0')]); // a host path with a mount in it
      await writeFile(join(paths.containers, `${id(7)}.creating`), '1-1-deadbeef'); // another boot's

      const { reaped, failed } = await reapOrphans({ paths, runc: createRunc(paths.runcRoot) });

      expect([reaped, failed]).toEqual([[id(7)], []]);
      expect(mounted()).toEqual([join(volume, 'sub')]);
      expect(existsSync(bundle)).toBe(false);
      expect(await readFile(join(volume, 'data'), 'utf8')).toBe('keep me');
    } finally {
      execFileSync('umount', [join(volume, 'sub')]);
    }
  });

  it('an orphan that cannot be removed now is reported, holds no other back, and goes once it can', async () => {
    const stuck = containerPaths(paths, id(6)).dir;
    const gone = containerPaths(paths, id(7)).dir;
    await mkdir(join(stuck, 'upper'), { recursive: true });
    await writeFile(join(stuck, 'upper', 'pinned'), '');
    execFileSync('chattr', ['+i', join(stuck, 'upper', 'pinned')]); // as a privileged container could
    await mkdir(gone, { recursive: true });
    try {
      const first = await reapOrphans({ paths, runc: createRunc(paths.runcRoot) });
      expect(first.reaped).toEqual([id(7)]);
      expect(first.failed.map((f) => f.id)).toEqual([id(6)]); // rm fails on the immutable file
      expect(existsSync(gone)).toBe(false);
    } finally {
      execFileSync('chattr', ['-i', join(stuck, 'upper', 'pinned')]);
    }
    const second = await reapOrphans({ paths, runc: createRunc(paths.runcRoot) });
    expect([second.reaped, second.failed]).toEqual([[id(6)], []]);
  });

  it('never shows a half-written marker: a reap while a create marks itself keeps its create', async () => {
    // The daemon reaps in every pass while pods' tasks create containers. A marker that appeared
    // empty (created, not yet written) named no live owner: the pass deleted it, the next one
    // reaped the bundle under the create and killed its conmon (a 60 s ERR_CREATE_TIMEOUT, in a
    // third of the runs of scripts/bench/reboot). This thread spins, so the write the marker waits
    // for cannot run: whatever is under the marker's name meanwhile is what a reaper reads.
    const marker = join(paths.containers, `${id(8)}.creating`);
    const marking = markCreating(paths, id(8));
    const until = Date.now() + 300;
    while (!existsSync(marker) && Date.now() < until) {
      // spin until the marker shows, or a bound
    }
    const reaping = reapOrphans({ paths, runc: createRunc(paths.runcRoot) });
    const unmark = await marking;
    expect(await reaping).toEqual({ reaped: [], failed: [] });
    expect(await readFile(marker, 'utf8')).toBe(ownerToken());
    expect((await readdir(paths.containers)).filter((n) => n.startsWith(id(8)))).toEqual([
      `${id(8)}.creating`,
    ]);
    await unmark();
    // A draft its killed creator left goes with the next reap; a live creator's stays.
    const dead = join(paths.containers, `${id(9)}.creating.1-1-deadbeef.tmp`);
    const live = join(paths.containers, `${id(9)}.creating.${ownerToken()}.tmp`);
    await writeFile(dead, '1-1-deadbeef');
    await writeFile(live, '');
    await reapOrphans({ paths, runc: createRunc(paths.runcRoot) });
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    await rm(live);
  });

  it('reaps a hostUsers: false mount point left without its bundle; a live create keeps its own', async () => {
    const userns = (n: number) => join(work, 'root', 'userns', id(n));
    // 10: an undo killed (or refused) after its bundle went: the mount point stays, still mounted.
    await mkdir(join(userns(10), 'rootfs'), { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(userns(10), 'rootfs')]);
    await writeFile(join(paths.containers, `${id(10)}.creating`), '1-1-deadbeef');
    // 11: a create in progress (live marker) whose bundle is not visible: never touched.
    await mkdir(join(userns(11), 'rootfs'), { recursive: true });
    const unmark = await markCreating(paths, id(11));
    // 12: no marker at all, no bundle.
    await mkdir(userns(12), { recursive: true });
    const { reaped, failed } = await reapOrphans({ paths, runc: createRunc(paths.runcRoot) });
    expect([reaped.sort(), failed]).toEqual([[id(10), id(12)], []]);
    expect(mounted()).toEqual([]);
    expect(await readdir(join(work, 'root', 'userns'))).toEqual([id(11)]);
    expect(await readdir(userns(11))).toEqual(['rootfs']);
    await unmark();
    expect((await reapOrphans({ paths, runc: createRunc(paths.runcRoot) })).reaped).toEqual([id(11)]);
    expect(await readdir(join(work, 'root', 'userns'))).toEqual([]);
  });

  it('removes a container runc has no state for (a reboot emptied /run) without running runc', async () => {
    // After a reboot every container is removed before it is made again: a runc process each only
    // to hear "does not exist" was a third of the processes of a recovery. No runc binary at all
    // here, so any call fails the removal.
    const noRunc = createRunc(paths.runcRoot, join(work, 'no-such-runc'));
    const p = containerPaths(paths, id(6));
    await mkdir(join(p.dir, 'upper'), { recursive: true });
    await writeFile(p.record, '{}');
    await removeById({ paths, runc: noRunc }, id(6));
    expect(existsSync(p.dir)).toBe(false);
    // With state, runc is asked (and its failure is the removal's).
    const q = containerPaths(paths, id(7));
    await mkdir(q.dir, { recursive: true });
    await mkdir(join(paths.runcRoot, id(7)), { recursive: true });
    await expect(removeById({ paths, runc: noRunc }, id(7))).rejects.toMatchObject({ code: 'ERR_RUNC' });
    expect(existsSync(q.dir)).toBe(true);
    await rm(join(paths.runcRoot, id(7)), { recursive: true });
    await removeById({ paths, runc: createRunc(paths.runcRoot) }, id(7));
    expect(existsSync(q.dir)).toBe(false);
  });
});
