// A hostPath under /tmp on a host where fs.protected_symlinks is 0: a local user (a throwaway account)
// plants a link where berth will make or check the path, so root would make a directory or a file,
// and mount, wherever the user points. berth follows such links as the kernel does with the
// sysctl at 1: not a link of another user in a sticky directory every user can write; root's own
// links there, and links elsewhere, are followed as the kubelet follows them.
import { chmod, lchown, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareHostPath } from '../../src/reconcile/host-path-types.js';
import { createLocalUser, type LocalUser } from '../helpers/local-user.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['useradd'], { root: true });

describe.skipIf(skip)('hostPath through a link in a sticky directory', () => {
  let work: string;
  let shared: string;
  let target: string;
  let user: LocalUser;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-sticky-'));
    shared = join(work, 'tmp'); // a /tmp of the test's own
    await mkdir(shared);
    await chmod(shared, 0o1777);
    target = join(work, 'etc'); // where the user would have root write
    await mkdir(target);
    user = createLocalUser();
  });
  afterAll(async () => {
    user?.remove();
    await rm(work, { recursive: true, force: true });
  });

  const plant = async (name: string, uid: number, to = target) => {
    const link = join(shared, name);
    await symlink(to, link);
    await lchown(link, uid, uid);
    return link;
  };

  it('a link the user planted is not followed: nothing is made where it points, every type refused', async () => {
    const link = await plant('app', user.uid);
    const outcomes: Record<string, string> = {};
    for (const [path, type] of [
      [join(link, 'data'), 'DirectoryOrCreate'],
      [join(link, 'lock'), 'FileOrCreate'],
      [join(link, 'data'), ''],
      [link, 'Directory'],
    ] as const) {
      outcomes[`${type || 'none'} ${path}`] = await prepareHostPath('web', { path, type }).then(
        () => 'followed',
        (err: Error & { code?: string }) => `${err.code}: ${err.message}`,
      );
    }
    const refused = (path: string) =>
      `ERR_HOSTPATH_UNSAFE: pod web: hostPath ${path}: ${link} is a symlink of uid ${user.uid} in ${shared}, a sticky directory every user can write: not followed`;
    expect(outcomes).toEqual({
      [`DirectoryOrCreate ${join(link, 'data')}`]: refused(join(link, 'data')),
      [`FileOrCreate ${join(link, 'lock')}`]: refused(join(link, 'lock')),
      [`none ${join(link, 'data')}`]: refused(join(link, 'data')),
      [`Directory ${link}`]: refused(link),
    });
    expect(await readdir(target)).toEqual([]);
  });

  // The kernel (and runc) take `..` after the link it follows: `link/../data` is beside the link's
  // target, not beside the link. Read as text, `..` would drop the link unchecked.
  it('a ".." after the planted link is refused too: the link is followed before the ".." is taken', async () => {
    const inner = join(target, 'inner');
    await mkdir(inner);
    await mkdir(join(target, 'data'));
    const link = await plant('climb', user.uid, inner);
    const path = `${link}/../data`;
    const outcome = await prepareHostPath('web', { path, type: 'Directory' }).then(
      () => 'followed',
      (err: Error & { code?: string }) => `${err.code}: ${err.message}`,
    );
    expect(outcome).toBe(
      `ERR_HOSTPATH_UNSAFE: pod web: hostPath ${path}: ${link} is a symlink of uid ${user.uid} in ${shared}, a sticky directory every user can write: not followed`,
    );
  });

  it("root's own link there, and a link in a directory that is not sticky, are followed", async () => {
    const chosen = join(work, 'chosen');
    await mkdir(chosen);
    const rootLink = await plant('rooted', 0, chosen);
    const plain = join(work, 'plain');
    await mkdir(plain);
    const elsewhere = join(plain, 'link');
    await symlink(chosen, elsewhere);
    await lchown(elsewhere, user.uid, user.gid);
    await prepareHostPath('web', { path: join(rootLink, 'a'), type: 'DirectoryOrCreate' });
    await prepareHostPath('web', { path: join(elsewhere, 'b'), type: 'DirectoryOrCreate' });
    expect((await readdir(chosen)).sort()).toEqual(['a', 'b']);
  });
});
