// `berth image unpack` run by root writes an image's setuid-root files and device nodes as they are:
// a local user (a throwaway account) must not reach them through DEST, whatever the umask, while a
// DEST the admin made keeps the mode they gave it.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth, runBerthUnderUmask } from '../helpers/cli.js';
import { archiveImage, buildImage, createLayout, type Layout, populateBusybox } from '../helpers/images.js';
import { createLocalUser, type LocalUser, tryAs } from '../helpers/local-user.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['skopeo', 'umoci', 'setpriv', 'useradd', 'mknod'], { root: true });

describe.skipIf(skip)('image unpack, seen by a local user', () => {
  let work: string;
  let layout: Layout;
  let user: LocalUser;
  let root: string;
  let state: string;
  const ref = 'test.local/suid:1';

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-lu-unpack-'));
    await chmod(work, 0o755); // only berth's modes may keep the user out
    user = createLocalUser();
    layout = await createLayout();
    const hostile = async (rootfs: string) => {
      execFileSync('cp', ['/bin/busybox', join(rootfs, 'bin/suid')]);
      await chmod(join(rootfs, 'bin/suid'), 0o4755);
      await mkdir(join(rootfs, 'dev'));
      execFileSync('mknod', ['-m', '0666', join(rootfs, 'dev/mem'), 'c', '1', '1']); // /dev/mem's numbers
    };
    await buildImage(layout, 'suid', [populateBusybox, hostile]);
    const archive = join(work, 'suid.tar');
    await archiveImage(layout, 'suid', archive, ref);
    root = join(work, 'root');
    state = join(work, 'state');
    const imported = await runBerth(['--root', root, '--state', state, 'image', 'import', archive]);
    expect(imported.stderr).toBe('');
  }, 120_000);
  afterAll(async () => {
    user?.remove();
    await layout?.cleanup();
    if (work) await removeTempRoot(work);
  });

  /** `berth image unpack` with the process umask `umask`. */
  const unpackWithUmask = (umask: string, dest: string) =>
    runBerthUnderUmask(umask, ['--root', root, '--state', state, 'image', 'unpack', ref, dest]);

  it.each(['022', '000'])(
    'a DEST berth makes (umask %s) is root-only: its setuid file cannot be run, its device not opened',
    async (umask) => {
      const dest = join(work, `dest-${umask}`);
      const r = unpackWithUmask(umask, dest);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect((await stat(join(dest, 'bin/suid'))).mode & 0o7777).toBe(0o4755); // kept as the image has it
      expect((await stat(dest)).mode & 0o777).toBe(0o700);
      expect(tryAs(user, [`exec:${dest}/bin/suid`, `open:${dest}/dev/mem`, `list:${dest}`])).toEqual({
        [`exec:${dest}/bin/suid`]: 'EACCES',
        [`open:${dest}/dev/mem`]: 'EACCES',
        [`list:${dest}`]: 'EACCES',
      });
    },
  );

  it('an empty DEST that exists keeps its owner and mode', async () => {
    const dest = join(work, 'given');
    await mkdir(dest, { mode: 0o750 });
    await chmod(dest, 0o750);
    const r = unpackWithUmask('022', dest);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect((await stat(dest)).mode & 0o7777).toBe(0o750);
  });

  it("a DEST the local user made, or a link the user planted there, is refused: nothing is written into the user's hands", async () => {
    const shared = join(work, 'shared'); // a /tmp of the test's own: sticky and world-writable
    await mkdir(shared);
    await chmod(shared, 0o1777);
    const theirs = join(shared, 'out');
    const planted = join(shared, 'planted');
    const target = join(shared, 'target');
    for (const [cmd, args] of [
      ['mkdir', [theirs, target]],
      ['ln', ['-s', target, planted]],
    ] as const) {
      const r = user.run(cmd, [...args]);
      expect({ cmd, status: r.status, stderr: r.stderr }).toEqual({ cmd, status: 0, stderr: '' });
    }
    const refusals = [theirs, planted].map((dest) => {
      const r = unpackWithUmask('022', dest);
      return [r.status, r.stderr];
    });
    expect(refusals).toEqual([
      [
        5,
        `berth: ERR_UNSAFE_DIR: DEST ${theirs} is owned by uid ${user.uid}, not uid 0: the image's setuid files and devices would be in their hands (give a DEST that does not exist: berth makes it for this user alone)\n`,
      ],
      [
        5,
        `berth: ERR_UNSAFE_DIR: DEST ${planted}: ${planted} is a symlink owned by uid ${user.uid}, neither root nor uid 0: not followed (give DEST a path without another user's links)\n`,
      ],
    ]);
    expect(execFileSync('find', [shared, '-mindepth', '2']).toString()).toBe('');
  });
});
